-- The tenant's boundary (行政区划边界, platform/grids): at most one row, a GeoJSON Polygon or
-- MultiPolygon stored as text with its bounding box, as grids are. Reports whose point lies
-- outside it are refused; a tenant without a row takes any point within China's extent.
CREATE TABLE boundary (
    id         integer PRIMARY KEY CHECK (id = 1),
    geometry   text NOT NULL,
    min_lon    double precision NOT NULL,
    min_lat    double precision NOT NULL,
    max_lon    double precision NOT NULL,
    max_lat    double precision NOT NULL,
    area_m2    double precision NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
