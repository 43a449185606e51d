-- Per-device hourly means for the per-device anomaly rules (issue 14; alerts/device_hours.py). Written by the alert
-- evaluator, not by ingest: only for the metric and devices such a rule watches, from the readings it judges
-- anyway, with one upsert a minute at most, so the ingest's hot path gains nothing. Additive like the other rollups
-- (a sum and a count, never a mean), so a late reading or a leader's partial hour adds up instead of replacing.
-- The key leads with (metric, bucket): a rule's baselines are read as a few hours of the day on each of its days
-- (alerts/device_baselines.py), each bucket one range of the index; kind and district ride along for the rules'
-- matchers. Retention: IOC_RETENTION_DEVICE_HOUR_DAYS (storage/policies.py).

CREATE TABLE device_rollup_1h (
    metric     text             NOT NULL,
    bucket     timestamptz      NOT NULL,
    device_id  text COLLATE "C" NOT NULL,
    kind       text             NOT NULL,
    district   text             NOT NULL,
    readings   bigint           NOT NULL,
    value_sum  double precision NOT NULL,
    PRIMARY KEY (metric, bucket, device_id)
);
SELECT create_hypertable('device_rollup_1h', by_range('bucket', INTERVAL '7 days'), create_default_indexes => false);

-- Retention on the Apache build drops its chunks through the owner's function (0008): it must know the table.
CREATE OR REPLACE FUNCTION drop_expired_chunks(hypertable text, older_than interval) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    dropped integer;
BEGIN
    IF hypertable NOT IN ('sensor_readings', 'complaint_events', 'datacenter_samples',
                          'sensor_rollup_1m', 'complaint_rollup_1m', 'datacenter_rollup_1m',
                          'sensor_rollup_1h', 'complaint_rollup_1h', 'datacenter_rollup_1h',
                          'device_rollup_1h') THEN
        RAISE EXCEPTION 'drop_expired_chunks: % is not an IOC hypertable', hypertable
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF older_than < interval '1 day' THEN
        RAISE EXCEPTION 'drop_expired_chunks: retention under a day (%) refused', older_than;
    END IF;
    SELECT count(*) INTO dropped FROM drop_chunks(hypertable::regclass, older_than => older_than);
    RETURN dropped;
END;
$$;
REVOKE ALL ON FUNCTION drop_expired_chunks(text, interval) FROM PUBLIC;
