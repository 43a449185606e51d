"""A producer inventing device ids, against real processes: `ioc ingest` and `ioc alerts run` on real Redis and
TimescaleDB. The issue's figure is 1,000,000 new ids (bench/cardinality.py runs it); the suite sends FLOOD of them
with the cap scaled by the same factor, interleaved with good readings of known devices.

What must hold: every good reading is stored; each new id past the cap is dead-lettered as ``too_many_new``;
the ingest worker's memory, the Redis keys the cap adds, current state, the live snapshot and the open alerts
stay within the bounds below, whatever FLOOD is.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson

import bootstrap
from live.queries import Windows, read_city
from live.snapshot import assemble
from streams.admission import counter_key
from tests.integration import events
from tests.integration.alerting import start_alerts, write_rules
from tests.integration.conftest import count, wait_until
from tests.integration.processes import start_ingest
from tests.integration.test_hostile_ingest import rss_kib, stop

FLOOD = 20_000  # new device ids; the 1,000,000 scaled by 1/50
CAP = 100  # new ids a minute: the default 5,000 scaled by the same 1/50
KNOWN = 50
BATCH = 1000  # entries a read: the flood spans many batches, so the first quarter reaches the high-water mark
WARM = 20_000  # readings of the known fleet before the baseline: two full batches
GOOD_EVERY = 10  # one good reading of a known device after every 10 new ids
MAX_OPEN = 20
T = int(time.time() * 1000) - 60_000
# The worker keeps nothing per refused id. A batch of refused entries holds more at once than one of good readings
# (each becomes a dead letter in one Redis pipeline), so the first flood batches raise the worker's high-water mark
# once (docs/BENCHMARKS.md); the three quarters of the flood after the first must then add next to nothing
# (15,000 refused ids: 8 MiB would be over 500 bytes each). The parser's bounded cache (IOC_PARSE_CACHE_MAX_BYTES)
# is kept small here so it does not blur the figure.
RSS_GROWTH_BOUND_KIB = 64 * 1024
LATE_GROWTH_BOUND_KIB = 8 * 1024
# The cap's only Redis state: one counter per stream and minute, expiring two minutes after its last use.
CAP_KEYS_BOUND_BYTES = 1024
SNAPSHOT_SENSORS = 100  # IOC_LIVE_MAX_SENSORS here (its minimum)
RULES = """
[[rule]]
id = "gauge_silent"
type = "no_data"
severity = "warning"
summary = "{subject} silent {value:.0f} s"
match = { kind = "air_quality" }
subject = "device"
silent_for = "15s"
"""


def flood(first: int, last: int):
    for i in range(first, last):
        yield events.reading(f"fake-{i}", ts=T + i)
        if i % GOOD_EVERY == 0:
            yield events.reading(f"aq-{i % KNOWN}", value=i % 50, ts=T + i)


def test_a_flood_of_new_device_ids_is_dead_lettered_and_leaves_every_bound_held(rds, db, test_settings, tmp_path):
    rules = write_rules(tmp_path / "rules.toml", RULES)
    s = test_settings.model_copy(update={
        "ingest_new_devices_per_min": CAP, "ingest_batch": BATCH, "alert_max_open_per_rule": MAX_OPEN,
        "alert_rules_file": rules, "live_max_sensors": SNAPSHOT_SENSORS, "parse_cache_max_entries": 1000,
        "parse_cache_max_bytes": 1_048_576,
    })  # fmt: skip
    first_minute = int(time.time() // 60)
    ingest = start_ingest(s, log=tmp_path / "ingest.log")
    alerting = start_alerts(s, "--no-send", log=tmp_path / "alerts.log")
    try:
        wait_until(lambda: rds.exists(f"{s.alert_consumer_group}:leader"), timeout=60, what="an evaluator leads")
        events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", ts=T - 1000 - i) for i in range(KNOWN)])
        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_latest") == KNOWN, timeout=60, what="the fleet")
        # Warm up with full batches of the known fleet, so the baseline holds a batch's working set already.
        events.fill(rds, s.stream_iot, [events.reading(f"aq-{i % KNOWN}", ts=T - 100_000 - i) for i in range(WARM)])
        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") == KNOWN + WARM, timeout=120,
                   what="the warm-up readings")  # fmt: skip
        before = rss_kib(ingest.pid)

        def admitted() -> int:
            return count(db, "SELECT count(*) FROM sensor_latest WHERE starts_with(device_id, 'fake-')")

        def refused() -> int:
            return int(rds.hget(f"{s.consumer_group}:stats", f"{s.stream_iot}:rejected:too_many_new") or 0)

        def settled(sent: int) -> None:
            good = (sent + GOOD_EVERY - 1) // GOOD_EVERY
            wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings WHERE starts_with(device_id, 'aq-')")
                       == KNOWN + WARM + good, timeout=300, what="every good reading stored")  # fmt: skip
            wait_until(lambda: admitted() + refused() == sent, timeout=300, what="each new id stored or refused")

        # In quarters: what the worker kept per refused id would show as growth after the first quarter.
        for quarter in range(4):
            events.fill(rds, s.stream_iot, flood(quarter * FLOOD // 4, (quarter + 1) * FLOOD // 4))
            settled((quarter + 1) * FLOOD // 4)
            if quarter == 0:
                middle = rss_kib(ingest.pid)
        after = rss_kib(ingest.pid)
        grown, grown_late = after - before, after - middle
        last_minute = int(time.time() // 60)
        # Redis: the cap's counters (the only keys it adds), and the stream trimmed once acknowledged by both groups.
        cap_keys = [counter_key(s.consumer_group, s.stream_iot, m) for m in range(first_minute, last_minute + 1)]
        cap_bytes = sum(rds.memory_usage(k) or 0 for k in cap_keys)
        wait_until(lambda: rds.xlen(s.stream_iot) < 2000, timeout=120, what="the flood trimmed from the stream")
        stream_bytes = rds.memory_usage(s.stream_iot) or 0

        # The alerts: the evaluator tracks at most CAP new devices a minute; once they fall silent the rule opens
        # MAX_OPEN alerts and one summary alert that counts the rest.
        def summary() -> tuple | None:
            return db.execute("SELECT value FROM alerts WHERE rule_id = 'gauge_silent' AND labels->>'capped' = 'true'"
                              " AND status <> 'resolved'").fetchone()  # fmt: skip

        wait_until(summary, timeout=180, what="the summary alert of a rule over its cap")
        open_alerts = count(db, "SELECT count(*) FROM alerts WHERE status <> 'resolved'")
    finally:
        stop(ingest)
        stop(alerting)

    minutes = last_minute - first_minute + 1
    # The figures for docs/BENCHMARKS.md (shown with pytest -s).
    print(f"flood {FLOOD}: admitted {admitted()} in {minutes} min, refused {refused()},"
          f" ingest RSS {before}->{middle}->{after} KiB, cap keys {cap_bytes} B, stream {stream_bytes} B,"
          f" open alerts {open_alerts}")  # fmt: skip
    letters = rds.xrevrange(s.stream_deadletter, count=100)
    assert {f[b"dlq_code"] for _, f in letters} == {b"too_many_new"}
    assert admitted() <= CAP * minutes, f"{admitted()} new devices admitted in {minutes} minute(s)"
    assert refused() >= FLOOD - CAP * minutes
    assert grown < RSS_GROWTH_BOUND_KIB, f"the ingest worker grew by {grown:,} KiB"
    assert grown_late < LATE_GROWTH_BOUND_KIB, f"the ingest worker grew by {grown_late:,} KiB in the second half"
    assert cap_bytes < CAP_KEYS_BOUND_BYTES, f"the cap's counters take {cap_bytes} bytes"
    assert stream_bytes < 2 * 1024 * 1024, f"the trimmed stream still takes {stream_bytes:,} bytes"
    assert open_alerts == MAX_OPEN + 1  # twenty devices' alerts and the summary, not one per device

    conn = bootstrap.db_connection(s)
    doc = assemble(read_city(conn, Windows.at(datetime.now(UTC), s.city_timezone), s.live_max_sensors),
                       bootstrap.status_bands(s))
    conn.close()
    assert len(doc["sensors"]) <= SNAPSHOT_SENSORS
    assert doc["sensor_counts"].get("not_shown", 0) == KNOWN + admitted() - len(doc["sensors"])
    assert len(orjson.dumps(doc)) < 64 * 1024
