// Package exchange is 数据交换, the upward connection (联网): a tenant's case history, its base
// data (grids, components) and its monthly indicators go to the provincial platform (and to the
// nation through it), or to any destination its admin configures.
//
// Changes enter the tenant's own outbox in the transaction that makes them (database triggers
// on case_events, grids and components: tenant migration exchange.0001), one row per
// destination. The background loop (Run) delivers each destination's due rows in batches
// through an Adapter (HTTPAdapter: one JSON POST per batch) in a payload Profile
// (cityops-province/1, documented in docs/exchange.md), each item with an idempotency key that
// is the same on every retry and replay, so the receiver applies it once. A case's changes go in
// version order — the next waits for the answer about the one before, and a refused one holds
// back the later ones of its case only. Refused items back off and are dead after a number of
// refusals; a destination that fails as a whole (down, timing out, 5xx) pauses and loses
// nothing. Every batch is in the delivery log. The tenant's admin configures destinations (their
// credentials go to the secret store and never come back), replays a range and retries the
// dead; the prefecture reads its counties' status and the operator everyone's.
//
// The 12345 hotline rides on the same machinery: Hotline takes its work orders in as cases with
// source hotline (once per work-order number), and profile cityops-12345/1, named by a
// destination of their own, sends their outcome (accepted, returned, completed) back.
//
// Data also comes in: Importer brings the history of the systems a county ran before (a vendor's
// CSV, XLSX or JSON export) in as cases with their whole history, written as recorded and marked
// imported, through the tenant's versioned Mapping, idempotent by the vendor's record id and
// resumable (tenant migration exchange.0003; docs/exchange.md, "Vendor import").
package exchange
