-- Current state, upserted in the same transaction as the raw events. The fill factor leaves room on each page
-- so the constant updates stay HOT (no index churn).

CREATE TABLE sensor_latest (
    device_id  text COLLATE "C" NOT NULL,
    metric     text             NOT NULL,
    kind       text             NOT NULL,
    unit       text             NOT NULL,
    value      double precision NOT NULL,
    ts         timestamptz      NOT NULL,
    lat        double precision NOT NULL,
    lon        double precision NOT NULL,
    district   text             NOT NULL,
    PRIMARY KEY (device_id, metric)
) WITH (fillfactor = 70);

-- One row per service request: its latest status and the times of its life cycle.
CREATE TABLE complaints (
    request_id     text COLLATE "C" PRIMARY KEY,
    status         text             NOT NULL,
    category       text             NOT NULL,
    district       text             NOT NULL,
    lat            double precision NOT NULL,
    lon            double precision NOT NULL,
    channel        text             NOT NULL,
    description    text,
    opened_at      timestamptz      NOT NULL,
    in_progress_at timestamptz,
    closed_at      timestamptz,
    satisfaction   smallint,
    updated_at     timestamptz      NOT NULL,
    events         integer          NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX complaints_open_idx ON complaints (opened_at) WHERE status <> 'closed';
CREATE INDEX complaints_closed_idx ON complaints (closed_at) WHERE status = 'closed';

CREATE TABLE datacenter_latest (
    site          text             PRIMARY KEY,
    ts            timestamptz      NOT NULL,
    facility_kw   double precision NOT NULL,
    it_kw         double precision NOT NULL,
    inlet_temp_c  double precision,
    humidity_pct  double precision
) WITH (fillfactor = 70);
