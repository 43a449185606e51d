"""Ingest against real Redis and TimescaleDB: stored once, state and rollups right, bad entries dead-lettered."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

import bootstrap
from storage.event_store import EventStore
from streams.batching import parse_entries
from streams.trim import trim_stream
from tests.integration import events
from tests.integration.conftest import count, wait_until
from tests.integration.stepped_clock import SteppedClock

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


def delivered(rds, settings) -> int:
    """How many entries of the iot stream the ingest group has handed out so far."""
    groups = {group["name"]: group for group in rds.xinfo_groups(settings.stream_iot)}
    return groups[settings.consumer_group.encode()]["entries-read"]


def stop_when(condition: Callable[[], bool], timeout: float = 30.0) -> Callable[[], bool]:
    """A ``should_stop`` for a worker run by the test itself: ``condition``, or ``timeout`` seconds of wall time
    so that a worker which never meets it fails the test instead of hanging it."""
    give_up_at = time.monotonic() + timeout
    return lambda: condition() or time.monotonic() > give_up_at


def test_after_a_short_read_a_worker_lingers_and_after_a_full_one_it_reads_on(rds, db, test_settings):
    # Below full load, waiting linger_ms after a short read lets the next read (and its one transaction) find
    # many readings. The worker runs on a stepped clock: the test sees the waits it asks for, not their length.
    s = test_settings.model_copy(update={"ingest_linger_ms": 300, "ingest_batch": 10})
    events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", ts=T + i) for i in range(13)])  # a full read, then 3
    clock, lingered = SteppedClock(), {}  # entries delivered so far → seconds slept after them

    def sleep(seconds: float) -> None:
        so_far = delivered(rds, s)
        lingered[so_far] = lingered.get(so_far, 0.0) + seconds
        clock.sleep(seconds)

    worker = bootstrap.ingest_worker(s, "w1")
    worker.monotonic, worker.sleep = clock.monotonic, sleep
    stop_at = clock.now + 0.3  # one linger's worth of the worker's clock: by then it has read everything
    worker.run(stop_when(lambda: clock.now >= stop_at))
    assert lingered == pytest.approx({13: 0.3}), lingered  # after the 3, and not after the full read of 10
    assert count(db, "SELECT count(*) FROM sensor_readings") == 13
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0


def test_a_stop_request_ends_a_linger_at_once_and_the_batch_in_hand_is_stored(rds, db, test_settings):
    s = test_settings.model_copy(update={"ingest_linger_ms": 300})
    events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", ts=T + i) for i in range(3)])  # a short read
    clock, stop = SteppedClock(), threading.Event()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        stop.set()  # the stop request arrives while the worker lingers

    worker = bootstrap.ingest_worker(s, "w1")
    worker.monotonic, worker.sleep = clock.monotonic, sleep
    worker.run(stop_when(stop.is_set))
    assert len(clock.slept) == 1 and clock.slept[0] < 0.3, clock.slept  # no further sleep once asked to stop
    assert count(db, "SELECT count(*) FROM sensor_readings") == 3
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
