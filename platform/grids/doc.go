// Package grids owns a tenant's grids (GB/T 30428.1): street, community and unit grids with
// their 14-digit codes and polygons, imported and exported as GeoJSON, the resolution of a point
// to its unit grid, responsibility grids (patrol areas) assigned to inspectors, and the tenant's
// boundary (行政区划边界), outside which reports are refused. The maps draw that boundary, or,
// before one is uploaded, the tenant's division from the Atlas shipped with the product
// (MapBoundary); the public report form offers the grids' names as places (FindPlaceNames).
//
// Polygons are stored as GeoJSON geometry text with a bounding box in indexed columns, on both
// dialects; a point is resolved by the bounding-box prefilter in SQL and an exact
// point-in-polygon test in Go (paulmach/orb), so no PostGIS is needed.
package grids
