// Package billing owns what the operating company bills: meters and usage (with roll-ups per
// tenant per hour, day and month), plans and entitlements, the advance-funding ledger (double
// entry, int64 fen), repayment schedules, ageing and yearly statements, and the link to Stripe.
//
// Everything lives in the control plane (schema control), never in a tenant schema. The ledger is
// the source of truth and works alone: with no Gateway (no Stripe key) every feature but the
// Stripe mirror works. With a Gateway, every call to Stripe is written to a transactional outbox
// (control.billing_outbox) in the same transaction as the change that causes it and sent by a
// worker with a deterministic idempotency key, so a Stripe outage or a crash loses nothing and a
// retry is de-duplicated by Stripe. The Gateway interface is declared here, the consumer side; the
// stripe-go implementation lives in billing/stripegw.
//
// Usage is recorded through Service.Record, which takes primitive types so that platform modules
// can declare their own one-method interface without importing this package. Records are
// buffered and flushed in multi-row inserts; a repeated idempotency key is counted once, and the
// roll-ups are updated in the same transaction from the rows actually inserted. Quotas never block
// anything: usage over a plan's included quantity is flagged and rated as overage.
//
// docs/billing.md describes the model, the accounts and the operator's workflow.
package billing
