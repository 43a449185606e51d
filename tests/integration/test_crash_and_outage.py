"""Real worker processes: SIGKILL mid-batch and a database outage lose and duplicate nothing."""

from __future__ import annotations

import signal
import time

import bootstrap
from tests.integration import events
from tests.integration.conftest import allow_connections, count, holds_for, refuse_connections, wait_until
from tests.integration.processes import start_ingest

T = int(time.time() * 1000) - 3_600_000  # an hour ago: recent enough to outlive retention


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def _kill_while_writing(s, db, tmp_path) -> None:
    """SIGKILL a worker that has read a batch and is inside its write: the lock holds it there, so no timing."""
    holder = bootstrap.db_connection(s)
    try:
        holder.execute("LOCK TABLE sensor_readings IN SHARE MODE")  # blocks the COPY, not our SELECTs
        proc = start_ingest(s, log=tmp_path / "ingest.log")
        wait_until(
            lambda: count(
                db,
                "SELECT count(*) FROM pg_locks WHERE relation = 'sensor_readings'::regclass AND NOT granted",
            )
            > 0,
            timeout=60,
            what="the worker to wait inside its write",
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        holder.rollback()
        holder.close()


def test_workers_killed_mid_batch_lose_and_duplicate_nothing(rds, db, test_settings, tmp_path):
    s = test_settings.model_copy(update={"ingest_batch": 500})
    total = 40_000
    events.fill(rds, s.stream_iot, (events.reading(f"aq-{i % 700}", value=i % 97, ts=T + i) for i in range(total)))
    for kill in range(3):
        proc = start_ingest(s, log=tmp_path / "ingest.log")
        before = count(db, "SELECT count(*) FROM sensor_readings")
        wait_until(
            lambda b=before: count(db, "SELECT count(*) FROM sensor_readings") > b + 2000,
            timeout=60,
            what=f"progress before kill {kill}",
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    _kill_while_writing(s, db, tmp_path)
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] > 0  # the dead left work behind

    survivor = start_ingest(s, log=tmp_path / "ingest.log")
    try:
        wait_until(
            lambda: (
                rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
                and count(db, "SELECT count(*) FROM sensor_readings") == total
            ),
            timeout=120,
            what="the survivor to claim and finish everything",
        )
    finally:
        _stop(survivor)
    assert count(db, "SELECT count(DISTINCT source_id) FROM sensor_readings") == total
    assert count(db, "SELECT sum(readings) FROM sensor_rollup_1m") == total
    assert count(db, "SELECT sum(readings) FROM sensor_rollup_1h") == total
    assert count(db, "SELECT sum(value_sum)::bigint FROM sensor_rollup_1h") == sum(i % 97 for i in range(total))


def test_two_workers_share_the_load(rds, db, test_settings, tmp_path):
    s = test_settings.model_copy(update={"ingest_batch": 200})
    total = 20_000
    events.fill(rds, s.stream_iot, (events.reading(f"aq-{i % 300}", ts=T + i) for i in range(total)))
    proc = start_ingest(s, "--workers", "2", log=tmp_path / "ingest.log")
    try:
        wait_until(
            lambda: (
                count(db, "SELECT count(*) FROM sensor_readings") == total
                and rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
            ),
            timeout=90,
            what="all ingested",
        )
    finally:
        _stop(proc)
    per_consumer = {
        k: int(v) for k, v in rds.hgetall(f"{s.consumer_group}:stats").items() if k.startswith(b"consumer:")
    }
    assert len(per_consumer) == 2 and all(n > 0 for n in per_consumer.values()), per_consumer


def test_with_the_database_down_the_worker_acknowledges_nothing_and_catches_up(rds, own_database, tmp_path):
    s, admin, name = own_database
    db = bootstrap.db_connection(s)
    db.autocommit = True
    events.fill(rds, s.stream_iot, (events.reading(f"aq-{i}", ts=T + i) for i in range(1000)))
    proc = start_ingest(s, log=tmp_path / "ingest.log")
    try:
        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") == 1000, timeout=60, what="first 1000")
        db.close()
        refuse_connections(admin, name)

        events.fill(rds, s.stream_iot, (events.reading(f"aq-{i}", ts=T + i) for i in range(1000, 2000)))
        wait_until(
            lambda: rds.xpending(s.stream_iot, s.consumer_group)["pending"] > 0,
            timeout=30,
            what="the worker to read entries it cannot store",
        )
        held = rds.xpending(s.stream_iot, s.consumer_group)["pending"]
        # Several back-off rounds (at most 0.5 s each here): nothing may be acknowledged, nothing may crash.
        holds_for(
            lambda: rds.xpending(s.stream_iot, s.consumer_group)["pending"] >= held and proc.poll() is None,
            seconds=3,
            what="pending entries held by a live worker while the database is down",
        )
        allow_connections(admin, name)

        db = bootstrap.db_connection(s)
        db.autocommit = True
        wait_until(
            lambda: (
                count(db, "SELECT count(*) FROM sensor_readings") == 2000
                and rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
            ),
            timeout=60,
            what="catch-up",
        )
        assert count(db, "SELECT count(DISTINCT source_id) FROM sensor_readings") == 2000
        db.close()
    finally:
        _stop(proc)
    assert b"database unavailable" in (tmp_path / "ingest.log").read_bytes()
