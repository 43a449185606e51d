-- Per-minute and per-hour rollups, kept additive (sums and counts, never averages) so each ingest
-- transaction can merge its batch into them and any coarser figure can be derived exactly.
-- They are plain hypertables, so they work on the Apache build of TimescaleDB (no continuous aggregates)
-- and retention can drop old chunks.

CREATE TABLE sensor_rollup_1m (
    bucket     timestamptz      NOT NULL,
    district   text             NOT NULL,
    kind       text             NOT NULL,
    metric     text             NOT NULL,
    readings   bigint           NOT NULL,
    value_sum  double precision NOT NULL,
    value_min  double precision NOT NULL,
    value_max  double precision NOT NULL,
    PRIMARY KEY (district, kind, metric, bucket)
);
SELECT create_hypertable('sensor_rollup_1m', by_range('bucket', INTERVAL '7 days'), create_default_indexes => false);
CREATE TABLE sensor_rollup_1h (LIKE sensor_rollup_1m INCLUDING ALL);
SELECT create_hypertable('sensor_rollup_1h', by_range('bucket', INTERVAL '90 days'), create_default_indexes => false);

CREATE TABLE complaint_rollup_1m (
    bucket            timestamptz NOT NULL,
    district          text        NOT NULL,
    category          text        NOT NULL,
    status            text        NOT NULL,
    events            bigint      NOT NULL,
    satisfaction_n    bigint      NOT NULL,
    satisfaction_sum  bigint      NOT NULL,
    satisfied_n       bigint      NOT NULL,
    PRIMARY KEY (district, category, status, bucket)
);
SELECT create_hypertable('complaint_rollup_1m', by_range('bucket', INTERVAL '7 days'), create_default_indexes => false);
CREATE TABLE complaint_rollup_1h (LIKE complaint_rollup_1m INCLUDING ALL);
SELECT create_hypertable('complaint_rollup_1h', by_range('bucket', INTERVAL '90 days'), create_default_indexes => false);

CREATE TABLE datacenter_rollup_1m (
    bucket           timestamptz      NOT NULL,
    site             text             NOT NULL,
    samples          bigint           NOT NULL,
    facility_kw_sum  double precision NOT NULL,
    it_kw_sum        double precision NOT NULL,
    inlet_temp_n     bigint           NOT NULL,
    inlet_temp_sum   double precision NOT NULL,
    inlet_temp_max   double precision,
    PRIMARY KEY (site, bucket)
);
SELECT create_hypertable('datacenter_rollup_1m', by_range('bucket', INTERVAL '7 days'), create_default_indexes => false);
CREATE TABLE datacenter_rollup_1h (LIKE datacenter_rollup_1m INCLUDING ALL);
SELECT create_hypertable('datacenter_rollup_1h', by_range('bucket', INTERVAL '90 days'), create_default_indexes => false);
