-- Monitoring (platform/monitoring, 运行监测): the tenant's devices, their raw readings, the
-- minute/hour/day rollups the ingest keeps in the same transaction, the ingest batches already
-- taken (a batch sent again is answered from here and writes nothing), the rejected readings
-- counted per day and reason, and the tenant's retention and offline settings (one row).
--
-- Reading times and bucket starts are milliseconds since the epoch (bigint): compact, the same
-- on both dialects, and ordered as numbers.
CREATE TABLE monitoring_devices (
    id             integer PRIMARY KEY,
    code           text NOT NULL UNIQUE,
    name           text NOT NULL DEFAULT '',
    type           text NOT NULL,
    lon            real NOT NULL,
    lat            real NOT NULL,
    grid_code      text,
    component_code text,
    token_hash     text NOT NULL UNIQUE,
    token_prefix   text NOT NULL,
    last_seen      bigint,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX monitoring_devices_type ON monitoring_devices (type);
CREATE INDEX monitoring_devices_grid ON monitoring_devices (grid_code);

CREATE TABLE monitoring_readings (
    device_id bigint NOT NULL,
    metric    text NOT NULL,
    at        bigint NOT NULL,
    value     real NOT NULL
);
CREATE INDEX monitoring_readings_series ON monitoring_readings (device_id, metric, at);

CREATE TABLE monitoring_minute (
    device_id bigint NOT NULL,
    metric    text NOT NULL,
    bucket    bigint NOT NULL,
    n         bigint NOT NULL,
    vmin      real NOT NULL,
    vmax      real NOT NULL,
    vsum      real NOT NULL,
    last_at   bigint NOT NULL,
    last      real NOT NULL,
    PRIMARY KEY (device_id, metric, bucket)
);
CREATE TABLE monitoring_hour (
    device_id bigint NOT NULL,
    metric    text NOT NULL,
    bucket    bigint NOT NULL,
    n         bigint NOT NULL,
    vmin      real NOT NULL,
    vmax      real NOT NULL,
    vsum      real NOT NULL,
    last_at   bigint NOT NULL,
    last      real NOT NULL,
    PRIMARY KEY (device_id, metric, bucket)
);
CREATE TABLE monitoring_day (
    device_id bigint NOT NULL,
    metric    text NOT NULL,
    bucket    bigint NOT NULL,
    n         bigint NOT NULL,
    vmin      real NOT NULL,
    vmax      real NOT NULL,
    vsum      real NOT NULL,
    last_at   bigint NOT NULL,
    last      real NOT NULL,
    PRIMARY KEY (device_id, metric, bucket)
);

CREATE TABLE monitoring_batches (
    id          text PRIMARY KEY,
    device_id   bigint NOT NULL,
    received_at bigint NOT NULL,
    accepted    integer NOT NULL,
    rejected    text NOT NULL
);
CREATE INDEX monitoring_batches_received ON monitoring_batches (received_at);

CREATE TABLE monitoring_rejections (
    day    text NOT NULL,
    reason text NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (day, reason)
);

CREATE TABLE monitoring_settings (
    id              integer PRIMARY KEY CHECK (id = 1),
    raw_days        integer NOT NULL,
    minute_days     integer NOT NULL,
    hour_days       integer NOT NULL,
    day_days        integer NOT NULL,
    offline_minutes integer NOT NULL,
    updated_at      timestamptz NOT NULL
);
