-- Monitoring's video (platform/monitoring/video*.go): cameras are devices of type 'camera'.
--
-- monitoring_cameras holds a camera's source: its protocol (rtsp, onvif, gb28181), the stream URL
-- and the optional HTTP snapshot URL sealed with the tenant's key (they often carry the camera's
-- password; the API never returns them), source_hint (scheme://host:port, without credentials or
-- path, to show), and external_path, the camera's path on an external media server.
--
-- monitoring_camera_shares: the counties (tenant ids; no foreign key to the control plane) a
-- prefecture's camera is shared with. They see and watch it read-only.
--
-- monitoring_video_types: the tenant's mapping of a video-analytics event type to what its alarm
-- does (alarm, confirm, case: as a rule's action) with the case's kind, class and text; a type not
-- listed here but built in raises a plain alarm.
--
-- monitoring_video_events: the events taken, by camera and the event's own id: an event sent
-- again is answered from here and writes nothing.
--
-- monitoring_snapshots: one JPEG per alarm of a camera (sent with the event or grabbed from the
-- camera; data NULL and error set when grabbing failed), and the case photo it became (photo_id)
-- once the alarm's case was opened.
CREATE TABLE monitoring_cameras (
    device_id     bigint PRIMARY KEY REFERENCES monitoring_devices (id) ON DELETE CASCADE,
    protocol      text NOT NULL,
    source        text NOT NULL,
    source_hint   text NOT NULL,
    snapshot_url  text NOT NULL DEFAULT '',
    external_path text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);

CREATE TABLE monitoring_camera_shares (
    device_id bigint NOT NULL REFERENCES monitoring_devices (id) ON DELETE CASCADE,
    tenant_id text NOT NULL,
    shared_by text NOT NULL,
    shared_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, tenant_id)
);
CREATE INDEX monitoring_camera_shares_tenant ON monitoring_camera_shares (tenant_id);

CREATE TABLE monitoring_video_types (
    type           text PRIMARY KEY,
    action         text NOT NULL,
    severity       text NOT NULL,
    case_kind      text NOT NULL DEFAULT '',
    class_code     text NOT NULL DEFAULT '',
    description    text NOT NULL DEFAULT '',
    min_confidence real NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE monitoring_video_events (
    device_id   bigint NOT NULL REFERENCES monitoring_devices (id) ON DELETE CASCADE,
    event_id    text NOT NULL,
    type        text NOT NULL,
    at          bigint NOT NULL,
    confidence  real NOT NULL,
    alarm_id    text,
    received_at bigint NOT NULL,
    PRIMARY KEY (device_id, event_id)
);
CREATE INDEX monitoring_video_events_received ON monitoring_video_events (received_at);

CREATE TABLE monitoring_snapshots (
    alarm_id    text PRIMARY KEY REFERENCES monitoring_alarms (id) ON DELETE CASCADE,
    device_id   bigint NOT NULL,
    taken_at    bigint NOT NULL,
    origin      text NOT NULL,
    data        blob,
    error       text,
    photo_id    text,
    photo_error text
);
CREATE INDEX monitoring_snapshots_photo ON monitoring_snapshots (alarm_id) WHERE photo_id IS NULL AND photo_error IS NULL AND data IS NOT NULL;
