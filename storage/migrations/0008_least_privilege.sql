-- Least privilege (issue 10): the ingest role writes rows but owns no table, and dropping a hypertable's chunks
-- needs its owner. Retention on the Apache build (storage/policies.py) therefore calls this function, which runs
-- as the schema's owner, only on the IOC's own hypertables, and may be called by nobody but the roles granted it
-- (storage/roles.py: ioc_ingest). `SET search_path FROM CURRENT` fixes the schema it was created in.

CREATE FUNCTION drop_expired_chunks(hypertable text, older_than interval) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    dropped integer;
BEGIN
    IF hypertable NOT IN ('sensor_readings', 'complaint_events', 'datacenter_samples',
                          'sensor_rollup_1m', 'complaint_rollup_1m', 'datacenter_rollup_1m',
                          'sensor_rollup_1h', 'complaint_rollup_1h', 'datacenter_rollup_1h') THEN
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
