// Package monitoring is 运行监测: a tenant's field devices (manhole covers, road water level,
// gas, bridges, streetlights, waste bins), the readings they send over the HTTP batch ingest
// with their device tokens, the minute/hour/day rollups and the retention of those readings,
// and the metering of accepted readings on the sensor_readings meter.
//
// Readings and rollups live in the tenant's own schema (or file); the ingest writes the raw rows
// with COPY and upserts the affected rollup buckets in the same tenant transaction, so a read
// never sees a reading without its rollups. Video (video*.go): cameras are devices with sealed
// sources, shareable from the prefecture, watched through an on-demand RTSP→HLS gateway that runs
// ffmpeg, with snapshots kept with their alarms and cases and video-analytics events raising
// alarms through the ingest. MQTT, rules and the live view are not built yet (docs/monitoring.md).
package monitoring
