"""End-to-end ingest throughput against its two limits, measured in the same run.

    .venv/bin/python bench/ingest.py [--events 300000] [--workers 1 2] [--batch 5000]

Pre-fills the three city streams (IoT readings, plus complaint and data-centre events in their real share), then
measures, each on a fresh schema and fresh streams:

* end to end: real `ioc ingest` worker processes, from the moment the filled streams appear (an atomic RENAME
  onto the names the idle workers are blocked on) until every entry is committed and acknowledged (group lag 0,
  nothing pending), raw rows, current state and rollups included;
* the database limit: a bare binary COPY of the same parsed rows into the same hypertables, same batch size;
* the Redis limit: a bare XREADGROUP + XACK loop over the same entries, no parsing, no database, reading replies
  the way the workers do (``streams.group_read``);
* the bare pipeline, the limit of end to end: as many worker processes, set up as `ioc ingest`'s, doing only
  read → COPY → commit → ack of the same entries (bench/bare_pipeline.py: rows parsed beforehand, no state, no
  rollups), timed the same way.

The two single limits run in this process with the workers' garbage-collector settings, so all measure the same
client code paths.

The machine is shared and noisy, so the figures that matter are the ratios: to the slower single limit, and of
end to end to the bare pipeline with the same number of workers.
"""

from __future__ import annotations

import argparse
import gc
import json
import pickle
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.bare_pipeline import TABLES  # noqa: E402
from bench.waiting import wait_for  # noqa: E402
from bench.workload import city_workload  # noqa: E402
from settings import Settings  # noqa: E402
from storage.event_store import _copy  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from streams.batching import parse_entries  # noqa: E402
from streams.group_read import raw_reader, read_group  # noqa: E402
from streams.runner import GC_YOUNG_THRESHOLD  # noqa: E402
from tests.integration.processes import settings_env  # noqa: E402


def fresh_settings(base: Settings, batch: int) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return base.model_copy(update={
        "db_schema": f"bench_{tag}", "stream_iot": f"bench{tag}:iot", "stream_complaints": f"bench{tag}:complaints",
        "stream_datacenter": f"bench{tag}:datacenter", "stream_deadletter": f"bench{tag}:deadletter",
        "consumer_group": f"bench{tag}", "ingest_batch": batch, "ingest_block_ms": 20,
        "housekeeping_interval_s": 1.0,
        # Every run's fleet is new to its fresh schema; a city's caps on new ids a minute would refuse most of it.
        "ingest_new_devices_per_min": 10**9, "ingest_new_sites_per_min": 10**9, "ingest_new_requests_per_min": 10**9,
    })  # fmt: skip


def fill(client, settings: Settings, workload: dict[str, list[dict]], suffix: str = "", first_ms: int | None = None,
         ) -> None:  # fmt: skip
    """Append the workload to the streams; with ``first_ms``, entry i of each stream gets the id ``first_ms+i-0``."""
    for kind, entries in workload.items():
        stream = settings.streams[kind] + suffix
        pipe = client.pipeline(transaction=False)
        for n, fields in enumerate(entries, 1):
            pipe.xadd(stream, fields, id=f"{first_ms + n - 1}-0" if first_ms is not None else "*")
            if n % 5000 == 0:
                pipe.execute()
        pipe.execute()


def drop(settings: Settings, client) -> None:
    for key in client.scan_iter(match=settings.stream_iot.split(":")[0] + "*"):
        client.delete(key)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))


def drain_time(s: Settings, client, workers: int, tree: Path = REPO, command: list[str] | None = None) -> float:
    """Seconds for ``workers`` ingest processes of ``tree`` to read and acknowledge every staged entry.

    The workers start on empty streams; the staged ones are renamed into place in one transaction, so the clock
    starts with all the work at once and no worker has a head start. ``command``: other workers than `ioc ingest`
    (the bare pipeline), started the same way.
    """
    for stream in s.streams.values():
        client.xgroup_create(stream + ":staged", s.consumer_group, id="0", mkstream=True)
        client.xgroup_create(stream, s.consumer_group, id="0", mkstream=True)
    command = command or ["-m", "cli.main", "ingest", "--workers", str(workers)]
    proc = subprocess.Popen([sys.executable, *command], cwd=tree, env=settings_env(s), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        wait_for(lambda: len(client.xinfo_consumers(s.stream_iot, s.consumer_group)) >= workers, 60)
        pipe = client.pipeline(transaction=True)
        for stream in s.streams.values():
            pipe.rename(stream + ":staged", stream)
        started = time.perf_counter()
        pipe.execute()
        wait_for(lambda: all(g["lag"] == 0 and g["pending"] == 0 for stream in s.streams.values()
                          for g in client.xinfo_groups(stream)), 600, interval=0.005)  # fmt: skip
        return time.perf_counter() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def end_to_end(base: Settings, workload: dict[str, list[dict]], workers: int, batch: int) -> float:
    """Events/s through real worker processes: read, parse, commit (rows, state, rollups), acknowledge."""
    s = fresh_settings(base, batch)
    client = bootstrap.redis_client(s)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    total = sum(len(v) for v in workload.values())
    fill(client, s, workload, suffix=":staged")
    elapsed = drain_time(s, client, workers)
    with bootstrap.db_connection(s) as conn:
        stored = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t, _ in TABLES.values())
        rolled = conn.execute("SELECT coalesce(sum(readings), 0) FROM sensor_rollup_1h").fetchone()[0]
    assert stored == total and rolled == len(workload["iot"]), (stored, rolled, total)
    drop(s, client)
    return total / elapsed


def parsed_rows(s: Settings, workload: dict[str, list[dict]], first_ms: int) -> dict[str, list]:
    """Kind → the workload's rows as ingest parses them, entry i of each stream with the id ``first_ms+i-0``."""
    entries = {kind: [(f"{first_ms + i}-0".encode(), {k.encode(): v.encode() for k, v in f.items()})
                      for i, f in enumerate(rows)] for kind, rows in workload.items()}  # fmt: skip
    batch_rows = parse_entries(entries, bootstrap.parse_context(s), redelivered=False).batch
    return {"iot": batch_rows.readings, "complaints": batch_rows.complaints, "datacenter": batch_rows.samples}


def copy_limit(base: Settings, workload: dict[str, list[dict]], batch: int) -> float:
    """Events/s of a bare binary COPY of the same parsed rows into the same hypertables, one commit a batch."""
    s = fresh_settings(base, batch)
    client = bootstrap.redis_client(s)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    records = parsed_rows(s, workload, int(time.time() * 1000))
    total = sum(len(v) for v in records.values())
    with bootstrap.db_connection(s) as conn:
        started = time.perf_counter()
        for kind, rows in records.items():
            table, types = TABLES[kind]
            fields = type(rows[0])._fields
            for i in range(0, len(rows), batch):
                with conn.transaction(), conn.cursor() as cur:
                    _copy(cur, table, fields, types, rows[i : i + batch])
        elapsed = time.perf_counter() - started
    drop(s, client)
    return total / elapsed


def bare_pipeline(base: Settings, workload: dict[str, list[dict]], workers: int, batch: int) -> float:
    """Events/s of ``workers`` bare worker processes (bench/bare_pipeline.py): read → COPY → commit → ack only."""
    s = fresh_settings(base, batch)
    client = bootstrap.redis_client(s)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    first_ms = int(time.time() * 1000)
    records = parsed_rows(s, workload, first_ms)
    total = sum(len(v) for v in records.values())
    assert total == sum(len(v) for v in workload.values()), "the workload has entries ingest would reject"
    fill(client, s, workload, suffix=":staged", first_ms=first_ms)
    with tempfile.NamedTemporaryFile(suffix=".pickle") as rows_file:
        pickle.dump(records, rows_file)
        rows_file.flush()
        command = ["-m", "bench.bare_pipeline", "--workers", str(workers), "--rows", rows_file.name]
        elapsed = drain_time(s, client, workers, command=command)
    with bootstrap.db_connection(s) as conn:
        stored = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t, _ in TABLES.values())
    assert stored == total, (stored, total)
    drop(s, client)
    return total / elapsed


def redis_limit(base: Settings, workload: dict[str, list[dict]], batch: int) -> float:
    """Events/s of a bare XREADGROUP + XACK loop over the same entries: no parsing, no database."""
    s = fresh_settings(base, batch)
    client = bootstrap.redis_client(s)
    fill(client, s, workload)
    for stream in s.streams.values():
        client.xgroup_create(stream, s.consumer_group, id="0")
    reader = raw_reader(client)
    starts = {stream: ">" for stream in s.streams.values()}
    total, seen = sum(len(v) for v in workload.values()), 0
    started = time.perf_counter()
    while seen < total:
        reply = read_group(reader, s.consumer_group, "bare", starts, batch, None)
        pipe = client.pipeline(transaction=True)
        for stream, entries in reply.items() if isinstance(reply, dict) else reply:
            pipe.xack(stream, s.consumer_group, *[entry_id for entry_id, _ in entries])
            seen += len(entries)
        pipe.execute()
    elapsed = time.perf_counter() - started
    drop(s, client)
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=300_000, help="IoT readings (complaints and DC samples add ~1%%)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=Settings().ingest_batch, help="entries per read")
    parser.add_argument("--sensors", type=int, default=50_000, help="distinct devices in the workload")
    parser.add_argument(
        "--own-positions", action="store_true", help="each device at a position of its own (city-scale parsing)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    base = Settings()
    workload = city_workload(args.events, sensors=args.sensors, rng=random.Random(7), own_positions=args.own_positions)
    total = sum(len(v) for v in workload.values())
    print(
        f"workload: {total:,} events ({', '.join(f'{k} {len(v):,}' for k, v in workload.items())}), "
        f"batch {args.batch}, {args.sensors:,} sensors{' at their own positions' if args.own_positions else ''}"
    )
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    figures = {
        "copy_limit": copy_limit(base, workload, args.batch),
        "redis_limit": redis_limit(base, workload, args.batch),
    }
    for workers in args.workers:
        figures[f"bare_pipeline_{workers}w"] = bare_pipeline(base, workload, workers, args.batch)
        figures[f"end_to_end_{workers}w"] = end_to_end(base, workload, workers, args.batch)
    slower = min(figures["copy_limit"], figures["redis_limit"])
    print(f"{'measure':<22}{'events/s':>12}{'x slower limit':>16}{'x bare pipeline':>17}")
    for name, rate in figures.items():
        bare = figures.get(name.replace("end_to_end", "bare_pipeline")) if name.startswith("end_to_end") else None
        print(f"{name:<22}{rate:>12,.0f}{rate / slower:>16.2f}{f'{rate / bare:.2f}' if bare else '':>17}")
    if args.json:
        ratios = {f"end_to_end_over_bare_{w}w": figures[f"end_to_end_{w}w"] / figures[f"bare_pipeline_{w}w"]
                  for w in args.workers}  # fmt: skip
        args.json.write_text(json.dumps({"events": total, "batch": args.batch, **figures, **ratios}, indent=2))


if __name__ == "__main__":
    main()
