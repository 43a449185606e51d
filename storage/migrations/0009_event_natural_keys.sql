-- Complaint events and data-centre samples are identified by what they say, as readings are since 0006, rather
-- than by the stream entry that carried them. With the city streams sharded (IOC_STREAM_SHARDS,
-- streams/shards.py) an entry id is unique only within its own stream: two shards give two events the same id in
-- the same millisecond, and four sites sampled at one instant on four shards were one row and three "duplicates".
-- As before, a redelivered entry or a producer's retried XADD never becomes a second row.
DELETE FROM complaint_events later
USING complaint_events earlier
WHERE later.request_id = earlier.request_id AND later.status = earlier.status AND later.ts = earlier.ts
  AND later.source_id > earlier.source_id;
CREATE UNIQUE INDEX complaint_events_event_key ON complaint_events (request_id, ts DESC, status);
DROP INDEX complaint_events_source_key;
DROP INDEX complaint_events_request_idx;

DELETE FROM datacenter_samples later
USING datacenter_samples earlier
WHERE later.site = earlier.site AND later.ts = earlier.ts AND later.source_id > earlier.source_id;
CREATE UNIQUE INDEX datacenter_samples_sample_key ON datacenter_samples (site, ts DESC);
DROP INDEX datacenter_samples_source_key;
DROP INDEX datacenter_samples_site_idx;
