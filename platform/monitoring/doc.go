// Package monitoring is 运行监测: a tenant's field devices (manhole covers, road water level,
// gas, bridges, streetlights, waste bins), the readings they send over the HTTP batch ingest
// with their device tokens, the minute/hour/day rollups and the retention of those readings,
// and the metering of accepted readings on the sensor_readings meter; and the rules that watch
// the readings (above, below, rate, no data), the alarms they raise and clear (with hysteresis,
// one open alarm per rule and device), the alarms' lifecycle, and the cases they open through the
// case loop (claimed first, so one alarm never gets two cases; closing the case clears it).
//
// Readings and rollups live in the tenant's own schema (or file); the ingest writes the raw rows
// with COPY and upserts the affected rollup buckets in the same tenant transaction, so a read
// never sees a reading without its rollups; the rules are judged in that transaction too. The
// live view (live.go: the device map, the big screen and their feed of server-sent events, polled
// from the tenant's database) shows devices and open alarms, for a prefecture across its
// counties. MQTT and video are not built yet (docs/monitoring.md).
package monitoring
