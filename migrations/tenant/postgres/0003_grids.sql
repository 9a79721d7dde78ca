-- Grids (GB/T 30428.1): street, community and unit grids with their 14-digit codes, stored as
-- GeoJSON geometry text with a bounding box for the point-in-polygon prefilter; responsibility
-- grids (patrol areas) group unit grids under an inspector.
CREATE TABLE grids (
    code        text PRIMARY KEY CHECK (length(code) = 14),
    level       text NOT NULL CHECK (level IN ('street', 'community', 'unit')),
    name        text NOT NULL,
    parent_code text REFERENCES grids (code) ON DELETE RESTRICT,
    geometry    text NOT NULL,
    min_lon     double precision NOT NULL,
    min_lat     double precision NOT NULL,
    max_lon     double precision NOT NULL,
    max_lat     double precision NOT NULL,
    area_m2     double precision NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX grids_bbox ON grids (level, min_lon, max_lon, min_lat, max_lat);
CREATE INDEX grids_parent ON grids (parent_code);

CREATE TABLE responsibility_grids (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    inspector_id text REFERENCES staff (id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE responsibility_grid_units (
    unit_code text PRIMARY KEY REFERENCES grids (code) ON DELETE CASCADE,
    resp_code text NOT NULL REFERENCES responsibility_grids (code) ON DELETE CASCADE
);
CREATE INDEX responsibility_grid_units_resp ON responsibility_grid_units (resp_code);
