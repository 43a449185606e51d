-- "The last few minutes across the whole city" (the live snapshot's query) would otherwise scan the current
-- chunk of each minute rollup, whose primary keys start with the district or site.
CREATE INDEX sensor_rollup_1m_bucket_idx ON sensor_rollup_1m (bucket DESC);
CREATE INDEX complaint_rollup_1m_bucket_idx ON complaint_rollup_1m (bucket DESC);
CREATE INDEX datacenter_rollup_1m_bucket_idx ON datacenter_rollup_1m (bucket DESC);
