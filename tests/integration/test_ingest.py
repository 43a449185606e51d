"""Ingest against real Redis and TimescaleDB: stored once, state and rollups right, bad entries dead-lettered."""

from __future__ import annotations

import threading
import time

import bootstrap
from storage.event_store import EventStore
from streams.batching import parse_entries
from streams.trim import trim_stream
from tests.integration import events
from tests.integration.conftest import count, wait_until

T = int(time.time() * 1000) - 3_600_000  # an hour ago: recent enough to outlive retention


def drain(worker) -> None:
    while worker.step():
        pass


def test_good_entries_land_with_state_and_rollups_and_are_acknowledged(rds, db, test_settings):
    s = test_settings
    events.fill(rds, s.stream_iot, [events.reading(f"aq-{i % 10}", value=i, ts=T + i * 1000) for i in range(100)])
    events.fill(rds, s.stream_complaints, [events.complaint("SZ-1", "open", T),
                                           events.complaint("SZ-1", "closed", T + 3_600_000, 4),
                                           events.complaint("SZ-2", "open", T + 60_000)])  # fmt: skip
    events.fill(
        rds, s.stream_datacenter, [events.sample("dc-a", 1200, 1000, T), events.sample("dc-a", 2600, 2000, T + 30_000)]
    )
    worker = bootstrap.ingest_worker(s, "w1")
    worker.ensure_groups()
    drain(worker)

    assert count(db, "SELECT count(*) FROM sensor_readings") == 100
    assert count(db, "SELECT count(*) FROM sensor_latest") == 10
    assert count(db, "SELECT value FROM sensor_latest WHERE device_id = 'aq-9'") == 99
    assert count(db, "SELECT sum(readings) FROM sensor_rollup_1m") == 100
    assert count(db, "SELECT sum(readings) FROM sensor_rollup_1h") == 100
    assert count(db, "SELECT sum(value_sum) FROM sensor_rollup_1h") == sum(range(100))
    status, closed_minutes, sat = db.execute(
        "SELECT status, extract(epoch FROM closed_at - opened_at) / 60, satisfaction"
        " FROM complaints WHERE request_id = 'SZ-1'"
    ).fetchone()
    assert (status, closed_minutes, sat) == ("closed", 60, 4)
    assert count(db, "SELECT count(*) FROM complaints WHERE status <> 'closed'") == 1
    pue = db.execute("SELECT sum(facility_kw_sum) / sum(it_kw_sum) FROM datacenter_rollup_1h").fetchone()[0]
    assert abs(pue - 3800 / 3000) < 1e-9
    for stream in (s.stream_iot, s.stream_complaints, s.stream_datacenter):
        assert rds.xpending(stream, s.consumer_group)["pending"] == 0
    worker.close()


def test_bad_entries_go_to_the_dead_letter_with_reason_and_the_good_ones_of_the_batch_land(rds, db, test_settings):
    s = test_settings
    good = [events.reading(f"aq-{i}", ts=T) for i in range(5)]
    bad = [
        {k: v for k, v in events.reading("aq-100").items() if k != "value"},  # missing field
        events.reading("aq-101", value="NaN"),
        events.reading("aq-102") | {"lat": "39.9", "lon": "116.4"},  # Beijing
        events.reading("aq-103") | {"unit": "x" * 5000},
    ]
    ids = events.fill(rds, s.stream_iot, good[:2] + bad + good[2:])
    rds.xadd(
        s.stream_iot,
        {k.encode(): v.encode() for k, v in events.reading("aq-104").items()} | {b"device_id": b"\xff\xfeaq"},
    )  # not UTF-8
    worker = bootstrap.ingest_worker(s, "w1")
    worker.ensure_groups()
    drain(worker)

    assert count(db, "SELECT count(*) FROM sensor_readings") == 5
    letters = rds.xrange(s.stream_deadletter)
    assert [f[b"dlq_code"] for _, f in letters] == [
        b"missing",
        b"not_finite",
        b"outside_city",
        b"too_large",
        b"encoding",
    ]
    first = letters[0][1]
    assert first[b"dlq_id"] == ids[2] and first[b"dlq_stream"] == s.stream_iot.encode()
    assert b"value" in first[b"dlq_reason"] and first[b"device_id"] == b"aq-100"  # original fields kept
    stats = rds.hgetall(f"{s.consumer_group}:stats")
    assert stats[f"{s.stream_iot}:rejected".encode()] == b"5"
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
    worker.close()


def test_a_redelivered_entry_never_makes_a_second_row(rds, db, test_settings):
    s = test_settings
    events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", value=1, ts=T) for i in range(50)])
    events.fill(rds, s.stream_complaints, [events.complaint("SZ-7", "open", T)])
    crashed = bootstrap.ingest_worker(s, "crashed")
    crashed.ensure_groups()
    # The crashed worker committed its batch and died before XACK: the entries stay pending on it.
    entries = crashed._read_new()
    EventStore(bootstrap.db_connection(s)).write(parse_entries(entries, crashed.ctx, redelivered=False).batch)
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 50

    rescuer = bootstrap.ingest_worker(s.model_copy(update={"claim_idle_ms": 100}), "rescuer")
    wait_until(lambda: rescuer.claim_stale() > 0, timeout=5, what="stale entries to be claimed")
    assert count(db, "SELECT count(*) FROM sensor_readings") == 50
    assert count(db, "SELECT sum(readings) FROM sensor_rollup_1m") == 50  # rollups not counted twice
    assert count(db, "SELECT events FROM complaints WHERE request_id = 'SZ-7'") == 1
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
    assert int(rds.hget(f"{s.consumer_group}:stats", "duplicates")) == 51
    rescuer.close()


def test_a_producers_retried_xadd_is_stored_once_even_inside_a_fresh_batch(rds, db, test_settings):
    s = test_settings
    readings = [events.reading(f"aq-{i}", value=i, ts=T) for i in range(20)]
    # A gateway that lost XADD replies sent three readings again: new entry ids, the same readings.
    events.fill(rds, s.stream_iot, readings + readings[:3] + [events.reading("aq-0", value=7, ts=T + 1000)])
    worker = bootstrap.ingest_worker(s, "w1")
    worker.ensure_groups()
    drain(worker)

    assert count(db, "SELECT count(*) FROM sensor_readings") == 21
    assert count(db, "SELECT sum(readings) FROM sensor_rollup_1m") == 21  # the copies are not counted either
    assert count(db, "SELECT value FROM sensor_latest WHERE device_id = 'aq-0'") == 7
    assert int(rds.hget(f"{s.consumer_group}:stats", "duplicates")) == 3
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
    worker.close()


def test_trimming_keeps_unacknowledged_entries(rds, test_settings):
    s = test_settings
    events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", ts=T) for i in range(3000)])
    worker = bootstrap.ingest_worker(s.model_copy(update={"ingest_batch": 1000}), "w1")
    worker.ensure_groups()
    worker.step()  # 1000 acknowledged
    worker._read_new()  # 1000 more delivered, never acknowledged
    assert trim_stream(rds, s.stream_iot) > 0
    oldest_pending = rds.xpending(s.stream_iot, s.consumer_group)["min"]
    assert rds.xrange(s.stream_iot, min=oldest_pending, count=1)[0][0] == oldest_pending
    assert 2000 <= rds.xlen(s.stream_iot) < 3000
    worker.close()


def test_below_full_batches_a_worker_lingers_so_one_transaction_stores_many(rds, db, test_settings):
    s = test_settings.model_copy(update={"ingest_linger_ms": 300})
    worker = bootstrap.ingest_worker(s, "w1")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True)
    thread.start()
    wait_until(lambda: rds.exists(s.stream_iot) and rds.xinfo_groups(s.stream_iot), what="the group")
    for i in range(100):  # a trickle: 100 readings over about a second
        rds.xadd(s.stream_iot, events.reading(f"aq-{i}", ts=T + i))
        time.sleep(0.01)
    wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") == 100, what="all stored")
    stopped_at = time.monotonic()
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - stopped_at < 1.0  # lingering never delays a stop
    # Each transaction leaves its own xmin: without lingering, a trickle is nearly a transaction per reading.
    transactions = count(db, "SELECT count(DISTINCT xmin::text) FROM sensor_readings")
    assert transactions <= 8, transactions
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
