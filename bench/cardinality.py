"""A producer inventing device ids at full scale: the issue's 1,000,000 new ids among a known fleet's readings.

    .venv/bin/python bench/cardinality.py [--new-ids 1000000] [--good 100000] [--fleet 1000] [--rounds 1]

Real `ioc ingest` (one worker process, default settings: 5,000 new device ids a minute), on fresh streams and a
fresh schema each time, from the moment the filled stream appears (an atomic RENAME, as in bench/ingest.py) until
every entry is stored or dead-lettered and acknowledged. Twice, in the same run: the fleet's ``--good`` readings
alone (the baseline), then the same readings interleaved with ``--new-ids`` readings of devices never seen.

Reported: both times and their ratio; every good reading stored; new devices admitted and dead-lettered
(``too_many_new``); the worker's peak and final RSS against the baseline's; the bytes of the cap's Redis counters;
the devices in current state and the size of the live snapshot built from it. The machine is shared with other
work, so the times matter only as a ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.ingest import drop, fresh_settings  # noqa: E402
from bench.waiting import wait_for  # noqa: E402
from bench.workload import city_workload  # noqa: E402
from live.queries import Windows, read_city  # noqa: E402
from live.snapshot import assemble  # noqa: E402
from settings import Settings  # noqa: E402
from storage.event_store import EventStore  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from streams.batching import parse_entries  # noqa: E402
from tests.integration.processes import settings_env  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def entries(fleet: list[dict], new_ids: int):
    """The fleet's readings with ``new_ids`` readings of unseen devices spread evenly among them."""
    template = dict(fleet[0])
    every = max(1, new_ids // max(1, len(fleet)))
    n = 0
    for reading in fleet:
        yield reading
        for _ in range(every if n < new_ids else 0):
            yield template | {"device_id": f"rogue-{n:07d}", "ts": str(int(template["ts"]) + n)}
            n += 1
    while n < new_ids:
        yield template | {"device_id": f"rogue-{n:07d}", "ts": str(int(template["ts"]) + n)}
        n += 1


def seed(s: Settings, readings: list[dict]) -> None:
    """Store one reading of each fleet device directly: the fleet is known before anything is streamed."""
    ctx = bootstrap.parse_context(s)
    now_ms = int(time.time() * 1000)  # entry ids say when Redis received an entry
    entries = {"iot": [(f"{now_ms + i}-0".encode(), {k.encode(): v.encode() for k, v in r.items()})
                       for i, r in enumerate(readings)]}  # fmt: skip
    read = parse_entries(entries, ctx, redelivered=False)
    assert not read.rejected, read.rejected[:1]
    with bootstrap.db_connection(s) as conn:
        EventStore(conn).write(read.batch)


def run(base: Settings, known: list[dict], fleet: list[dict], new_ids: int) -> dict:
    s = fresh_settings(base, base.ingest_batch)
    client = bootstrap.redis_client(s)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    seed(s, known)
    staged = s.stream_iot + ":staged"
    pipe = client.pipeline(transaction=False)
    for n, fields in enumerate(entries(fleet, new_ids), 1):
        pipe.xadd(staged, fields)
        if n % 5000 == 0:
            pipe.execute()
    pipe.execute()
    total = client.xlen(staged)
    for stream in s.streams.values():
        client.xgroup_create(stream, s.consumer_group, id="0", mkstream=True)
    client.xgroup_create(staged, s.consumer_group, id="0")
    redis_before = client.info("memory")["used_memory"]
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "ingest", "--workers", "1"], cwd=REPO,
                            env=settings_env(s), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    peak = 0
    try:
        wait_for(lambda: len(client.xinfo_consumers(s.stream_iot, s.consumer_group)) >= 1, 60)
        idle_rss = rss_kib(proc.pid)
        first_minute = int(time.time() // 60)
        client.rename(staged, s.stream_iot)
        started = time.perf_counter()

        def done() -> bool:
            nonlocal peak
            peak = max(peak, rss_kib(proc.pid))
            return all(g["lag"] == 0 and g["pending"] == 0 for g in client.xinfo_groups(s.stream_iot))

        wait_for(done, 3600, interval=0.01)
        elapsed = time.perf_counter() - started
        last_minute = int(time.time() // 60)
        final = rss_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    stats = {k.decode(): int(v) for k, v in client.hgetall(f"{s.consumer_group}:stats").items() if v.isdigit()}
    cap_keys = [f"{s.consumer_group}:new:{s.stream_iot}:{m}" for m in range(first_minute, last_minute + 1)]
    cap_bytes = sum(client.memory_usage(k) or 0 for k in cap_keys)
    redis_after = client.info("memory")["used_memory"]
    with bootstrap.db_connection(s) as conn:
        stored_good = conn.execute("SELECT count(*) FROM sensor_readings WHERE NOT starts_with(device_id, 'rogue-')"
                                   ).fetchone()[0]  # fmt: skip
        devices = conn.execute("SELECT count(DISTINCT device_id) FROM sensor_latest").fetchone()[0]
        doc = assemble(read_city(conn, Windows.at(datetime.now(UTC), s.city_timezone), s.live_max_sensors),
                       bootstrap.status_bands(s))
    figures = {
        "entries": total, "seconds": elapsed, "good_stored": stored_good,
        "too_many_new": stats.get(f"{s.stream_iot}:rejected:too_many_new", 0), "devices_in_state": devices,
        "minutes": last_minute - first_minute + 1, "rss_idle_kib": idle_rss, "rss_peak_kib": peak,
        "rss_final_kib": final, "cap_counter_bytes": cap_bytes, "deadletter_entries": client.xlen(s.stream_deadletter),
        "redis_used_delta_bytes": redis_after - redis_before, "snapshot_sensors": len(doc["sensors"]),
        "snapshot_bytes": len(orjson.dumps(doc)),
    }  # fmt: skip
    drop(s, client)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-ids", type=int, default=1_000_000)
    parser.add_argument("--good", type=int, default=100_000, help="readings of the known fleet")
    parser.add_argument("--fleet", type=int, default=1000, help="known devices")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    base = Settings()
    fleet = city_workload(args.good, args.fleet, random.Random(7))["iot"]
    # One reading of each device is stored before the run: the fleet is known, as in a running city. (Devices
    # new during a flood compete with the invented ones for each minute's cap: docs/EVENTS.md.)
    first: dict[str, dict] = {}
    for r in fleet:
        first.setdefault(r["device_id"], r)
    known = list(first.values())
    rest = [r for r in fleet if first[r["device_id"]] is not r]
    alone = run(base, known, rest, 0)
    print("fleet alone:", json.dumps(alone))
    flood = run(base, known, rest, args.new_ids)
    print(f"fleet among {args.new_ids:,} new ids:", json.dumps(flood))
    assert alone["good_stored"] == flood["good_stored"] == len(fleet), (alone["good_stored"], flood["good_stored"])
    print(f"ratio {flood['seconds'] / alone['seconds']:.1f}x the time for {flood['entries'] / alone['entries']:.1f}x"
          f" the entries; worker RSS peak {flood['rss_peak_kib'] / 1024:.0f} MiB (fleet alone "
          f"{alone['rss_peak_kib'] / 1024:.0f} MiB)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"alone": alone, "flood": flood}, indent=2))


if __name__ == "__main__":
    main()
