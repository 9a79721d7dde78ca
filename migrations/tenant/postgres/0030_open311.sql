-- Open311 GeoReport v2 (platform/open311): the minor classes the tenant opens to the public as
-- services, the api keys of its client apps (hashed), and the token issued for every request.
CREATE TABLE open311_services (
    kind       text NOT NULL CHECK (kind IN ('component', 'event')),
    class_code text NOT NULL CHECK (length(class_code) = 4),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (kind, class_code)
);

CREATE TABLE open311_keys (
    id         text PRIMARY KEY,
    name       text NOT NULL,
    key_hash   text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE TABLE open311_requests (
    token      text PRIMARY KEY,
    case_id    text NOT NULL UNIQUE,
    key_id     text NOT NULL REFERENCES open311_keys (id),
    media_url  text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);
