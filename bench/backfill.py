"""The first run's back-fill (`ioc simulate backfill`), beside a baseline measured in the same run.

    .venv/bin/python bench/backfill.py [--days 7]

Writes the default city's history (IOC_SIM_* and IOC_BACKFILL_* settings) into a fresh schema of the test
database, as `scripts/run.sh` does on a first run, and reports wall time, this process's CPU time, rows per
second, and the baseline: the same plan generated and turned into storage batches with no database at all
(what the back-fill could reach if writing cost nothing). The schema is dropped afterwards.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
from bench.proc_cpu import cpu_s  # noqa: E402
from cli.simulate import sim_config  # noqa: E402
from settings import Settings  # noqa: E402
from simulator.backfill import DAY_MS, WINDOW_MS, backfill_database  # noqa: E402
from simulator.engine import CitySimulation  # noqa: E402
from simulator.history import SAMPLE_INTERVAL_S, ReadingMaker, coarse_rate, stretches, to_batch  # noqa: E402
from storage.migrate import migrate  # noqa: E402


def city(settings: Settings) -> tuple[CitySimulation, Callable]:
    config = dataclasses.replace(sim_config(settings), datacenter_interval_s=SAMPLE_INTERVAL_S)
    sim = CitySimulation(bootstrap.city_map(settings), config)
    coarse = coarse_rate(len(sim.channels), settings.backfill_interval_s)
    live_ms = int(settings.backfill_live_rate_min * 60_000)
    return sim, lambda a, b, now: stretches(a, b, now, coarse, settings.sim_readings_per_s, live_ms)


def generate_only(settings: Settings, days: float, now_ms: int) -> tuple[int, float]:
    """Events and seconds to generate the plan and build its batches, writing nothing."""
    sim, plan = city(settings)
    maker, ctx, events = ReadingMaker(sim.channels), bootstrap.parse_context(settings), 0
    start = time.perf_counter()
    for stretch in plan(now_ms - int(days * DAY_MS), now_ms, now_ms):
        for t in range(stretch.start_ms, stretch.end_ms, WINDOW_MS):
            end = min(t + WINDOW_MS, stretch.end_ms)
            values, others = sim.window_values(t, end, stretch.readings_per_s)
            events += len(to_batch(values, others, end, maker, ctx))
    return events, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=float, default=None, help="default IOC_BACKFILL_DAYS")
    args = parser.parse_args()
    base = Settings()
    days = args.days if args.days is not None else base.backfill_days
    settings = base.model_copy(update={"db_schema": f"bench_backfill_{uuid.uuid4().hex[:8]}"})
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    try:
        now_ms = int(time.time() * 1000)
        events, generate_s = generate_only(settings, days, now_ms)
        sim, plan = city(settings)
        conn = bootstrap.db_connection(settings)
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.commit()
        db_cpu = cpu_s(backend)  # the server process doing the writes (same host: the chroot or a local server)
        wall, cpu = time.perf_counter(), time.process_time()
        filled = backfill_database(sim, conn, bootstrap.parse_context(settings), days, plan)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        db_cpu = cpu_s(backend) - db_cpu
        conn.close()
        print(f"back-fill of {days:g} days: {filled.readings:,} readings, {filled.complaints:,} complaint events, "
              f"{filled.samples:,} data-centre samples")  # fmt: skip
        print(f"  into TimescaleDB: {wall:.1f} s wall, {filled.events / wall:,.0f} rows/s; CPU {cpu:.1f} s in this "
              f"process + {db_cpu:.1f} s in its PostgreSQL backend (on two idle cores the wall time lies between "
              f"{max(cpu, db_cpu):.0f} and {cpu + db_cpu:.0f} s)")  # fmt: skip
        print(f"  baseline, generation and batches only: {generate_s:.1f} s ({events / generate_s:,.0f} rows/s); "
              f"the database write makes it {wall / generate_s:.2f}x that")  # fmt: skip
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))


if __name__ == "__main__":
    main()
