-- Organisation: departments (up to three levels) and staff with their posts.
-- staff.identity_id names an identity of the control plane by value only: tenant tables never
-- reference control.
CREATE TABLE departments (
    id         text PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    name       text NOT NULL UNIQUE,
    parent_id  text REFERENCES departments (id) ON DELETE RESTRICT,
    level      integer NOT NULL CHECK (level BETWEEN 1 AND 3),
    phone      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX departments_parent ON departments (parent_id);

CREATE TABLE staff (
    id            text PRIMARY KEY,
    identity_id   text UNIQUE,
    name          text NOT NULL,
    phone         text NOT NULL DEFAULT '',
    department_id text REFERENCES departments (id) ON DELETE RESTRICT,
    posts         text NOT NULL DEFAULT '',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX staff_department ON staff (department_id);
