// Package monitoring is 运行监测: a tenant's field devices (manhole covers, road water level,
// gas, bridges, streetlights, waste bins), the readings they send over the HTTP batch ingest
// with their device tokens or over MQTT (cityops/{tenant}/{device}/readings, QoS 1, a persistent
// session, acknowledged after the commit), the minute/hour/day rollups and the retention of those
// readings, and the metering of accepted readings on the sensor_readings meter; and the rules that
// watch the readings (above, below, rate, no data), the alarms they raise and clear (with
// hysteresis, one open alarm per rule and device), the alarms' lifecycle, and the cases they open
// through the case loop (claimed first, so one alarm never gets two cases; closing the case
// clears it).
//
// Both ingests share one write path (writeBatches): readings and rollups live in the tenant's
// own schema (or file); the raw rows are written with COPY and the affected rollup buckets
// upserted in the same tenant transaction, so a read never sees a reading without its rollups,
// and a batch id taken before writes nothing again (HTTP retries, MQTT redeliveries); the rules
// are judged in that transaction too (writeReadings). The broker authenticates devices (their
// token as password, a Mosquitto hash of it kept beside its SHA-256; mqtt-auth writes the
// broker's files); the consumer trusts the topic as the device's identity. The live view
// (live.go: the device map, the big screen and their feed of server-sent events, polled from the
// tenant's database) shows devices and open alarms, for a prefecture across its counties. Video
// (video*.go): cameras are devices with sealed sources, shareable from the prefecture, watched
// through an on-demand RTSP→HLS gateway that runs ffmpeg, with snapshots kept with their alarms
// and cases and video-analytics events raising alarms through the ingest.
package monitoring
