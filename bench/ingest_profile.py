"""Where one worker's time goes, per event: the ingest stages run one after another in this process.

    .venv/bin/python bench/ingest_profile.py [--events 200000] [--sensors 50000] [--own-positions]

Pre-fills a fresh IoT stream, then reads, parses and stores it batch by batch with the worker's own code and
collector settings, timing each stage separately: CPU of this process for the Python stages, and the database
stages as CPU of the PostgreSQL backend serving this connection (read from /proc, so only when the database runs
on this host; otherwise wall time). The stages of one batch share a transaction, as in the worker.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.ingest import drop, fill, fresh_settings  # noqa: E402
from bench.proc_cpu import cpu_s  # noqa: E402
from bench.workload import city_workload  # noqa: E402
from settings import Settings  # noqa: E402
from storage import rollups  # noqa: E402
from storage.event_store import (  # noqa: E402
    READING_TYPES,
    EventStore,
    latest_readings,
)
from storage.migrate import migrate  # noqa: E402
from streams.batching import parse_entries  # noqa: E402
from streams.group_read import entries_by_kind, raw_reader, read_group  # noqa: E402
from streams.iot import SensorReading  # noqa: E402
from streams.runner import GC_YOUNG_THRESHOLD  # noqa: E402

BATCH = 10_000


def backend_cpu_s(pid: int) -> float | None:
    """CPU seconds the backend process has used, if it runs on this host."""
    try:
        return cpu_s(pid)
    except OSError:
        return None


def profile(settings: Settings, workload: dict[str, list[dict[str, str]]]) -> tuple[int, dict[str, float], bool]:
    client = bootstrap.redis_client(settings)
    fill(client, settings, {"iot": workload["iot"]})
    client.xgroup_create(settings.stream_iot, settings.consumer_group, id="0")
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    reader, ctx = raw_reader(client), bootstrap.parse_context(settings)
    store = EventStore(bootstrap.db_connection(settings))
    conn = store._conn  # the stages below are EventStore._write taken apart, to time each
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    conn.commit()
    on_host = backend_cpu_s(pid) is not None
    spent: dict[str, float] = defaultdict(float)
    readings = 0

    def timed(stage: str, action):
        started = time.process_time()
        result = action()
        spent[stage] += time.process_time() - started
        return result

    def timed_db(stage: str, action) -> None:
        # Both sides: the backend's CPU (or the wall time) and this process's own share (COPY encoding).
        started, started_here = backend_cpu_s(pid) if on_host else time.perf_counter(), time.process_time()
        action()
        spent[f"{stage} (Python)"] += time.process_time() - started_here
        spent[f"{stage} (PostgreSQL)"] += (backend_cpu_s(pid) if on_host else time.perf_counter()) - started

    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    starts = {settings.stream_iot: ">"}
    kind_of = {settings.stream_iot.encode(): "iot"}
    cur = conn.cursor()
    while True:
        reply = timed(
            "read (XREADGROUP)", lambda: read_group(reader, settings.consumer_group, "p", starts, 10_000, None)
        )
        entries = entries_by_kind(reply, kind_of)
        if not entries:
            break
        read = timed("parse", lambda e=entries: parse_entries(e, ctx, redelivered=False))
        batch = read.batch.readings
        latest = timed("current state: newest per device", lambda b=batch: latest_readings(b))
        minutes = timed("rollups: group by minute", lambda b=batch: rollups.sensor_minutes(b))
        timed_db("raw rows: COPY", lambda b=batch: store._insert(cur, "sensor_readings", SensorReading._fields,
                                                                 READING_TYPES, b, careful=False))  # fmt: skip
        timed_db("current state: upsert", lambda rows=latest: store._merge_sensor_latest(cur, rows))
        timed_db("rollups: upsert", lambda m=minutes: store._merge_rollups(cur, rollups.SENSOR_ROLLUPS, m))
        timed_db("commit", conn.commit)
        ids = read.ids["iot"]
        timed("XACK", lambda i=ids: client.xack(settings.stream_iot, settings.consumer_group, *i))
        readings += len(batch)
    store.close()
    drop(settings, client)
    return readings, spent, on_host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="IoT readings")
    parser.add_argument("--sensors", type=int, default=50_000)
    parser.add_argument("--own-positions", action="store_true", help="each device at a position of its own")
    args = parser.parse_args()
    workload = city_workload(args.events, args.sensors, random.Random(7), own_positions=args.own_positions)
    readings, spent, on_host = profile(fresh_settings(Settings(), BATCH), workload)
    print(f"{readings:,} readings from {args.sensors:,} sensors, batch {BATCH:,}; µs per reading")
    print(f"{'stage':<38}{'µs':>8}  measured as")
    for stage, seconds in spent.items():
        how = ("backend CPU" if on_host else "wall time") if stage.endswith("(PostgreSQL)") else "this process's CPU"
        print(f"{stage:<38}{seconds / readings * 1e6:>8.2f}  {how}")
    print(f"{'total':<38}{sum(spent.values()) / readings * 1e6:>8.2f}")


if __name__ == "__main__":
    main()
