"""A real ingest worker against hostile producers: oversized and malformed entries are dead-lettered, cost the
worker no lasting memory, and never hold back the good readings beside them."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.integration import events
from tests.integration.conftest import count, wait_until
from tests.integration.processes import start_ingest

T = int(time.time() * 1000) - 3_600_000  # an hour ago: recent enough to outlive retention
DEVICES = 100
# Before the budgets, 2,000 rejected entries with unique 64 KiB field names grew a worker by 120 MiB (measured with
# this test on the previous commit: the parser remembered each layout); with them, by 3.2 MiB. What may remain
# is the allocator's slack from reading batches of 64 KiB entries.
RSS_GROWTH_BOUND_KIB = 16 * 1024


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def good_readings(first: int, n: int) -> list[dict[str, str]]:
    """Readings of a fixed fleet, each at its own time (a reading is unique by device, metric and time)."""
    return [events.reading(f"aq-{i % DEVICES}", value=i % 50, ts=T + i) for i in range(first, first + n)]


def settled(rds, db, s, stored: int, dead: int) -> bool:
    """Everything read, stored or dead-lettered, and acknowledged."""
    return (
        count(db, "SELECT count(*) FROM sensor_readings") == stored
        and rds.xlen(s.stream_deadletter) == dead
        and all(g["pending"] == 0 and g["lag"] == 0 for g in rds.xinfo_groups(s.stream_iot))
    )


def stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def test_unique_64_kib_field_names_are_dead_lettered_and_leave_the_workers_memory_as_it_was(
    rds, db, test_settings, tmp_path
):
    s = test_settings.model_copy(update={"ingest_batch": 200})
    proc = start_ingest(s, log=tmp_path / "ingest.log")
    try:
        # Warm up on the same fleet, so what the worker remembers of it is already in the baseline.
        events.fill(rds, s.stream_iot, good_readings(0, 4000))
        wait_until(lambda: settled(rds, db, s, 4000, 0), timeout=90, what="the warm-up readings")
        before = rss_kib(proc.pid)

        def mixed():
            for n in range(2000):
                yield events.reading(f"aq-{n % DEVICES}", ts=T + 10_000 + n) | {f"{n:08d}" * 8192: "1"}
                yield good_readings(4000 + n, 1)[0]

        events.fill(rds, s.stream_iot, mixed(), chunk=200)
        wait_until(lambda: settled(rds, db, s, 6000, 2000), timeout=180, what="good stored, bad dead-lettered")
        grown = rss_kib(proc.pid) - before
    finally:
        stop(proc)
    letters = rds.xrange(s.stream_deadletter, count=2000)
    assert {f[b"dlq_code"] for _, f in letters} == {b"too_large"}
    assert all(b"IOC_ENTRY_MAX_BYTES" in f[b"dlq_reason"] for _, f in letters)
    assert all(f[b"dlq_truncated"] == b"1" for _, f in letters)  # the 64 KiB name is cut in the letter
    stats = rds.hgetall(f"{s.consumer_group}:stats")
    assert stats[f"{s.stream_iot}:rejected:too_large".encode()] == b"2000"
    assert grown < RSS_GROWTH_BOUND_KIB, f"the worker grew by {grown:,} KiB"


def malformed(n: int) -> dict:
    """The n-th of a round of broken readings, one of each way to break the contract, and the code it earns."""
    good = events.reading(f"aq-{n % DEVICES}", ts=T + n)
    shapes = [
        ({k: v for k, v in good.items() if k != "value"}, "missing"),
        (good | {"value": "NaN"}, "not_finite"),
        (good | {"value": "loud"}, "not_a_number"),
        (good | {"lat": "39.9", "lon": "116.4"}, "outside_city"),
        (good | {"district": "atlantis"}, "unknown_district"),
        (good | {"ts": "1764000000"}, "bad_ts"),
        (good | {"ts": str(T + 10 * 86_400_000)}, "future_ts"),
        (good | {"kind": "Air Quality"}, "bad_value"),
        (good | {"device_id": b"\xff\xfe"}, "encoding"),
        (good | {"unit": "ug\x00m3"}, "encoding"),
        (good | {"unit": "x" * 5000}, "too_large"),
        (good | {f"extra_{i}": "1" for i in range(80)}, "too_large"),
    ]
    return shapes[n % len(shapes)]


def test_100_000_malformed_entries_among_10_000_good_ones_all_good_stored_all_bad_dead_lettered(
    rds, db, test_settings, tmp_path
):
    s = test_settings
    expected: dict[str, int] = {}

    def mixed():
        for n in range(110_000):
            if n % 11 == 0:
                yield good_readings(n // 11, 1)[0]
            else:
                fields, code = malformed(n)
                expected[code] = expected.get(code, 0) + 1
                yield fields

    events.fill(rds, s.stream_iot, mixed())
    proc = start_ingest(s, log=tmp_path / "ingest.log")
    try:
        wait_until(lambda: settled(rds, db, s, 10_000, 100_000), timeout=600, interval=0.5, what="all settled")
        assert proc.poll() is None  # the worker is alive
    finally:
        stop(proc)
    stats = {k.decode(): int(v) for k, v in rds.hgetall(f"{s.consumer_group}:stats").items()}
    assert stats[f"{s.stream_iot}:rejected"] == 100_000
    assert {code: stats[f"{s.stream_iot}:rejected:{code}"] for code in expected} == expected
    assert stats[f"{s.stream_iot}:parsed"] == 10_000
    assert count(db, "SELECT count(*) FROM sensor_latest") == DEVICES
