-- A reading is identified by what it says, the device, the metric and the time, rather than by the stream entry
-- that carried it. The one unique index then does three jobs: a redelivered entry never becomes a second row, a
-- producer's retried XADD (a new entry with the same reading) is not stored twice, and one device's history is
-- read through it. Ingest maintains one index per row instead of two (bench/ingest.py).
DELETE FROM sensor_readings later
USING sensor_readings earlier
WHERE later.device_id = earlier.device_id AND later.metric = earlier.metric AND later.ts = earlier.ts
  AND later.source_id > earlier.source_id;
CREATE UNIQUE INDEX sensor_readings_reading_key ON sensor_readings (device_id, metric, ts DESC);
DROP INDEX sensor_readings_source_key;
DROP INDEX sensor_readings_device_idx;
