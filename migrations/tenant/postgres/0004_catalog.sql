-- The tenant's part of the component and event catalog: its own extension classes (a county's
-- local classes, or a prefecture's extensions) and copies of its prefecture's extensions
-- (origin = 'prefecture', replaced whole on every sync); the national classes live in
-- ref.catalog_classes. Then the component inventory and the 立结案标准 table.
CREATE TABLE catalog_classes (
    kind        text NOT NULL CHECK (kind IN ('component', 'event')),
    code        text NOT NULL CHECK (length(code) IN (2, 4)),
    major_code  text NOT NULL CHECK (length(major_code) = 2),
    name_zh     text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    origin      text NOT NULL CHECK (origin IN ('own', 'prefecture')),
    public      boolean NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, code)
);

CREATE TABLE components (
    code             text PRIMARY KEY CHECK (length(code) = 16),
    class_code       text NOT NULL CHECK (length(class_code) = 4),
    name             text NOT NULL DEFAULT '',
    department       text NOT NULL DEFAULT '',
    owner_unit       text NOT NULL DEFAULT '',
    maintenance_unit text NOT NULL DEFAULT '',
    grid_code        text REFERENCES grids (code) ON DELETE SET NULL,
    status           text NOT NULL DEFAULT 'normal',
    lon              double precision NOT NULL,
    lat              double precision NOT NULL,
    source           text NOT NULL DEFAULT '',
    updated_at       timestamptz NOT NULL
);
CREATE INDEX components_class ON components (class_code);
CREATE INDEX components_grid ON components (grid_code);
CREATE INDEX components_location ON components (lon, lat);

CREATE TABLE standards (
    id                text PRIMARY KEY,
    kind              text NOT NULL CHECK (kind IN ('component', 'event')),
    class_code        text NOT NULL CHECK (length(class_code) = 4),
    filing_condition  text NOT NULL,
    department_id     text REFERENCES departments (id) ON DELETE RESTRICT,
    limit_amount      double precision NOT NULL CHECK (limit_amount > 0),
    limit_unit        text NOT NULL CHECK (limit_unit IN ('urgent_hours', 'working_hours', 'working_days')),
    closing_condition text NOT NULL,
    legal_basis       text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL,
    UNIQUE (kind, class_code, filing_condition)
);
