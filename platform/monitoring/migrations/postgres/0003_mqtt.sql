-- Monitoring over MQTT (platform/monitoring): a device's MQTT password is its token, and the
-- broker checks it against this Mosquitto-format hash ($7$, PBKDF2-SHA512) that `cityops
-- monitoring mqtt-auth` writes into the broker's password file. NULL for a device whose token
-- was made before this migration: rotating its token gives it one.
ALTER TABLE monitoring_devices ADD COLUMN mqtt_hash text;
