// Package evaluation is 综合评价 (GB/T 30428.4): it ranks a tenant's streets, communities, unit
// grids, departments and the four posts of the case loop (inspector, acceptor, shift lead,
// dispatcher) for a period by weighted indicators counted from the append-only case history as
// of the period's end (counts.go reads the period's histories in one pass and folds each case's
// through the definitions; docs/evaluation.md explains each and works an example). On time is
// what the case loop recorded when a stage ended, and the deadline a case ran under is the one
// its history recorded, so a past period counts the same whenever it is recounted.
//
// A tenant's admins set weighting schemes from a day on (Scheme; audited); a prefecture's scheme
// ranks its counties side by side (CompareUnits) from each county's totals (Summarize). Every
// figure opens the cases behind it (CasesBehind). Evaluate caches a period's figures until a newer
// event appears; the loop "totals" stores each county's totals of the ended periods and, as they
// go, of the running month, quarter and year, which Summarize reads (totals.go).
//
// The module (Module) serves the API (/evaluation, /evaluation/cases, /evaluation/units,
// /evaluation/schemes), the county's and the prefecture's pages, and the command centre's big
// screen with its server-sent events (screen.go). Plans sell it as the module "evaluation".
package evaluation
