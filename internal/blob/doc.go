// Package blob is where the app keeps files that are not rows: case photos, offboarding
// archives. One small interface, Store, over two places: the local disk (the embedded default,
// for one machine) and a bucket reached over the S3 API (production, shared by every replica).
//
// Keys are slash-separated paths of plain characters. What belongs to a tenant lives under
// TenantPrefix(id), so that a tenant's objects can be measured and removed as one.
package blob
