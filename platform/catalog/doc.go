// Package catalog owns the component and event classes (GB/T 30428.2) a tenant works with, its
// 立结案标准 (filing, handling and closing standard: per minor class and filing condition, the
// responsible department, the time limit and the closing condition) and its component inventory.
//
// The national classes live once in ref.catalog_classes, shared read-only by every tenant, each
// marked confirmed (a cited source gives the code) or provisional. A tenant adds its own
// extension classes in its own schema (origin "own"). A prefecture's extensions apply to its
// counties by copy at one well-defined moment: a county admin syncs them (origin "prefecture"),
// which replaces the county's previous copy whole. Tenant tables never reference another
// tenant or the control plane, and the case module only ever reads the county's own schema plus
// ref, so a case's class never changes under it because the prefecture edited its list.
package catalog
