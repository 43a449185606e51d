"""Migrations build real hypertables; they are versioned and idempotent; retention drops old chunks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import bootstrap
from storage.db import has_community_features
from storage.event_store import Batch, EventStore
from storage.migrate import available_migrations, migrate
from streams.iot import SensorReading
from tests.integration.conftest import count

RAW_AND_ROLLUPS = {"sensor_readings", "complaint_events", "datacenter_samples", "sensor_rollup_1m", "sensor_rollup_1h",
                   "complaint_rollup_1m", "complaint_rollup_1h", "datacenter_rollup_1m", "datacenter_rollup_1h",
                   "device_rollup_1h"}


def test_event_and_rollup_tables_are_hypertables(db, test_settings):
    found = {row[0] for row in db.execute(
        "SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = %s",
        (test_settings.db_schema,))}
    assert found == RAW_AND_ROLLUPS


def test_migrations_are_recorded_and_a_second_run_changes_nothing(db, test_settings):
    versions = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in available_migrations()]
    assert migrate(test_settings.database_url, test_settings.db_schema, bootstrap.retention(test_settings)) == []


def test_retention_drops_raw_chunks_past_their_age(db, test_settings):
    if has_community_features(db):
        jobs = {row[0] for row in db.execute(
            "SELECT hypertable_name FROM timescaledb_information.jobs"
            " WHERE proc_name = 'policy_retention' AND hypertable_schema = %s", (test_settings.db_schema,))}
        assert jobs == RAW_AND_ROLLUPS  # the licence has policies: they do the dropping
        return
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=test_settings.retention_raw_days + 3), now - timedelta(hours=1)
    batch = Batch(readings=[
        SensorReading(at, "d-1", "noise", "laeq_db", 50.0, "dB(A)", 22.5, 114.0, "futian", None, f"{i}-0")
        for i, at in enumerate((old, recent))
    ])  # fmt: skip
    store = EventStore(bootstrap.db_connection(test_settings))
    store.write(batch)
    assert store.drop_expired(bootstrap.retention(test_settings)) >= 1
    assert count(db, "SELECT count(*) FROM sensor_readings") == 1
    assert count(db, "SELECT count(*) FROM sensor_rollup_1h") == 2  # hour rollups live far longer
    store.close()
