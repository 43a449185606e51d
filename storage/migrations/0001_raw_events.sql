-- Raw events, one hypertable per stream. `source_id` is the Redis entry id: with `ts` it is unique, which is
-- what makes a redelivered entry (a worker died between commit and XACK) never become a second row.
-- Default time indexes are left out on purpose: dashboards read rollups and state, history of one
-- device/site/request goes through the per-key index below.

CREATE TABLE sensor_readings (
    ts          timestamptz      NOT NULL,
    device_id   text COLLATE "C" NOT NULL,
    kind        text             NOT NULL,
    metric      text             NOT NULL,
    value       double precision NOT NULL,
    unit        text             NOT NULL,
    lat         double precision NOT NULL,
    lon         double precision NOT NULL,
    district    text             NOT NULL,
    attrs       jsonb,
    source_id   text COLLATE "C" NOT NULL
);
SELECT create_hypertable('sensor_readings', by_range('ts', INTERVAL '1 day'), create_default_indexes => false);
CREATE UNIQUE INDEX sensor_readings_source_key ON sensor_readings (source_id, ts);
CREATE INDEX sensor_readings_device_idx ON sensor_readings (device_id, ts DESC);

CREATE TABLE complaint_events (
    ts           timestamptz      NOT NULL,
    request_id   text COLLATE "C" NOT NULL,
    status       text             NOT NULL,
    category     text             NOT NULL,
    district     text             NOT NULL,
    lat          double precision NOT NULL,
    lon          double precision NOT NULL,
    channel      text             NOT NULL,
    description  text,
    satisfaction smallint,
    attrs        jsonb,
    source_id    text COLLATE "C" NOT NULL
);
SELECT create_hypertable('complaint_events', by_range('ts', INTERVAL '7 days'), create_default_indexes => false);
CREATE UNIQUE INDEX complaint_events_source_key ON complaint_events (source_id, ts);
CREATE INDEX complaint_events_request_idx ON complaint_events (request_id, ts DESC);

CREATE TABLE datacenter_samples (
    ts            timestamptz      NOT NULL,
    site          text             NOT NULL,
    facility_kw   double precision NOT NULL,
    it_kw         double precision NOT NULL,
    inlet_temp_c  double precision,
    humidity_pct  double precision,
    attrs         jsonb,
    source_id     text COLLATE "C" NOT NULL
);
SELECT create_hypertable('datacenter_samples', by_range('ts', INTERVAL '7 days'), create_default_indexes => false);
CREATE UNIQUE INDEX datacenter_samples_source_key ON datacenter_samples (source_id, ts);
CREATE INDEX datacenter_samples_site_idx ON datacenter_samples (site, ts DESC);
