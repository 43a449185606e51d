"""What a per-device anomaly rule costs the evaluator: CPU per reading in process, and its statements in TimescaleDB.

    .venv/bin/python bench/anomaly_cost.py [--devices 50000] [--seconds 60] [--rate 20000] [--rounds 3] [--db]

**In process** (no Redis, no database): ``--devices`` devices of five kinds (as bench/alerts.py's background: one in
five is a noise sensor, 10,000 of 50,000) report ``--rate`` readings a second for ``--seconds`` of event time that
straddle an hour's end, so every watched device also closes an hour. The same parsed readings go through
``Evaluator.observe`` in batches of 1,000 with a tick after each, with the rules file's rules less its per-device
anomaly rules, and with them (plus ``noise_device_unusual`` as shipped if the file has none); each device rule gets
baselines for every device and hour of the day (so every reading is scored, as in a city with history). Printed:
CPU µs per reading, the minimum of ``--rounds`` alternated passes.

``--db`` also measures, in a scratch schema of ``IOC_DATABASE_URL``: the upsert of one hour's closed device-hours
(one statement), the baselines' load for one rule over ``baseline_days`` of history for every device (rows read and
returned, time, the Python side's share), and the back-fill's insert from an hour of raw readings.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alerts.anomaly import Baseline, Baselines, LocalHours  # noqa: E402
from alerts.evaluate import Evaluator, counts_device_hours  # noqa: E402
from alerts.rules import load_rules, parse_rules  # noqa: E402
from bench.workload import KINDS  # noqa: E402
from streams.iot import SensorReading  # noqa: E402

DISTRICTS = ("futian", "nanshan", "luohu", "baoan", "longgang", "longhua", "guangming", "pingshan", "yantian")
DEVICE_RULE = """[[rule]]
id = "noise_device_unusual"
type = "anomaly"
severity = "warning"
summary = "Noise at {subject} is {value:.0f} dB, usual for {hour} is {usual:.0f} dB (±{spread:.0f})"
match = { kind = "noise" }
metric = "laeq_db"
subject = "device"
direction = "above"
window = "15m"
threshold = 5
min_mad = 1
for = "15m"
"""
# The like-for-like: a plain rule on the same sensors keeping the same 15-minute window per device, never firing.
WINDOW_RULE = """[[rule]]
id = "noise_device_window"
type = "threshold"
severity = "warning"
summary = "{subject} reads {value}"
match = { kind = "noise" }
metric = "laeq_db"
subject = "device"
window = "15m"
threshold = 1000
"""
ZONE = "Asia/Shanghai"


def city(devices: int, rng: random.Random) -> list[tuple[str, str, str, str, str, float]]:
    """(device, kind, metric, unit, district, typical value) of each device."""
    out = []
    for n in range(devices):
        kind, metric, unit, typical = KINDS[n % len(KINDS)]
        out.append((f"{kind}-{n:06d}", kind, metric, unit, rng.choice(DISTRICTS), typical * rng.uniform(0.8, 1.2)))
    return out


def readings(devices: list, rate: float, seconds: float, end_hour: float, rng: random.Random) -> list[SensorReading]:
    """``rate`` readings a second for ``seconds`` of event time centred on ``end_hour`` (an hour's end)."""
    start = end_hour - seconds / 2
    total = int(rate * seconds)
    out = []
    for i in range(total):
        device, kind, metric, unit, district, typical = devices[i % len(devices)]
        ts = datetime.fromtimestamp(start + i / rate, UTC)
        out.append(SensorReading(ts, device, kind, metric, typical + rng.uniform(-1, 1), unit, 22.5, 114.0, district,
                                 None, f"{i}-0"))  # fmt: skip
    return out


def full_baselines(devices: list, metric: str) -> Baselines:
    """Every device of ``metric`` at every hour: its typical value, MAD 1, 14 days."""
    return Baselines({(d[0], h): Baseline(d[5], 1.0, 14) for d in devices if d[2] == metric for h in range(24)},
                     LocalHours(ZONE))  # fmt: skip


def cpu_per_reading(rules: list, records: list[SensorReading], devices: list, started: float) -> float:
    evaluator = Evaluator(rules, started=started)
    for rule in rules:
        if counts_device_hours(rule):
            evaluator.set_baselines(rule.id, full_baselines(devices, rule.metric))
    gc.collect()
    began = time.process_time()
    for k in range(0, len(records), 1000):
        batch = records[k : k + 1000]
        now = batch[-1].ts.timestamp()
        evaluator.observe("iot", batch, now)
        evaluator.tick(now)
    return (time.process_time() - began) / len(records) * 1e6


def in_process(args: argparse.Namespace) -> None:
    rng = random.Random(7)
    devices = city(args.devices, rng)
    shipped = load_rules(args.rules)
    without = [r for r in shipped if not counts_device_hours(r)]
    with_device = shipped if len(without) < len(shipped) else shipped + parse_rules(tomllib.loads(DEVICE_RULE))
    end_hour = (time.time() // 3600) * 3600
    records = readings(devices, args.rate, args.seconds, end_hour, rng)
    gc.freeze()  # the evaluator never holds a minute of readings: the collector should not walk them on every pass
    watched = {r.device_id for r in records if r.kind == "noise"}
    window_rule = parse_rules(tomllib.loads(WINDOW_RULE))
    sets = {"without per-device anomaly rules": without, "with them": with_device,
            "without, plus a 15-minute threshold rule": without + window_rule}  # fmt: skip
    best = {name: float("inf") for name in sets}
    for _ in range(args.rounds):
        for name, rules in sets.items():
            best[name] = min(best[name], cpu_per_reading(rules, records, devices, end_hour - args.seconds))
    print(
        f"{len(records):,} readings of {args.devices:,} devices ({len(watched):,} noise sensors), "
        f"{args.seconds:g} s of event time across an hour's end, best of {args.rounds}"
    )
    for name, us in best.items():
        print(f"  {name:<34} {us:6.2f} µs a reading")
    share = len([r for r in records if r.kind == "noise"]) / len(records)
    for name in list(sets)[1:]:
        extra = best[name] - best["without per-device anomaly rules"]
        print(f"  {name}: +{extra:.2f} µs a reading over all readings, +{extra / share:.2f} µs a watched reading")


def in_database(args: argparse.Namespace) -> None:
    import psycopg
    from psycopg import sql

    import bootstrap
    from alerts.device_baselines import BACKFILL, _params, load_device_baselines, write_hours
    from alerts.device_hours import HourMean
    from settings import Settings
    from storage.migrate import migrate

    settings = Settings()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    settings = settings.model_copy(update={"db_schema": schema})
    migrate(settings.database_url, schema, bootstrap.retention(settings))
    [rule] = parse_rules(tomllib.loads(DEVICE_RULE))
    noise = [f"noise-{n:06d}" for n in range(args.devices // 5)]
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    try:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
            rng = random.Random(3)
            began = time.perf_counter()
            for back in range(rule.baseline_days * 24, 0, -1):
                write_hours(conn, [HourMean("laeq_db", d, (hour - timedelta(hours=back)).timestamp(), "noise",
                                            "futian", 300, 300 * rng.gauss(60, 1)) for d in noise])  # fmt: skip
            seeded = time.perf_counter() - began
            print(
                f"seeded {len(noise):,} devices × {rule.baseline_days * 24} hours in {seeded:.0f} s "
                f"({seeded / (rule.baseline_days * 24) * 1000:.0f} ms a statement of {len(noise):,} rows)"
            )
            timed = []
            for n in range(3):
                hours = [HourMean("laeq_db", d, hour.timestamp(), "noise", "futian", 300, 18000.0 + n) for d in noise]
                t = time.perf_counter()
                write_hours(conn, hours)
                timed.append(time.perf_counter() - t)
            print(
                f"one flush of {len(noise):,} closed device-hours (upsert, new then existing rows): "
                + ", ".join(f"{t * 1000:.0f} ms" for t in timed)
            )
            for n in range(3):
                t, cpu = time.perf_counter(), time.process_time()
                baselines = load_device_baselines(conn, rule, now, ZONE, 3600.0)
                wanted = len(baselines) // len(noise)
                print(
                    f"baselines' load {n + 1}: {len(baselines):,} device-hours ({wanted} hours of the day × "
                    f"{rule.baseline_days} days = {len(baselines) * rule.baseline_days:,} hourly means read) in "
                    f"{time.perf_counter() - t:.2f} s ({time.process_time() - cpu:.2f} s of it this process's CPU)"
                )
            raw = [(hour - timedelta(days=1) + timedelta(seconds=12 * i), d, 60.0 + rng.random(), f"{d}-{i}")
                   for i in range(300) for d in noise[:2000]]  # fmt: skip
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO sensor_readings (ts, device_id, kind, metric, value, unit, lat, lon,"
                                " district, source_id) VALUES (%s, %s, 'noise', 'laeq_db', %s, 'dB', 22.5, 114.0,"
                                " 'futian', %s)", raw)  # fmt: skip
            conn.execute("DELETE FROM device_rollup_1h")
            t = time.perf_counter()
            params = _params(rule, hour - timedelta(days=rule.baseline_days), hour) | {"limit": 5_000_000}
            written = conn.execute(BACKFILL, params).rowcount
            print(
                f"back-fill of {len(raw):,} raw readings (an hour of 2,000 devices) into {written:,} device-hours: "
                f"{time.perf_counter() - t:.2f} s"
            )
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20_000.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rules", type=Path, default=REPO / "config" / "alert_rules.toml")
    parser.add_argument("--db", action="store_true", help="also time the statements in TimescaleDB")
    args = parser.parse_args()
    in_process(args)
    if args.db:
        in_database(args)


if __name__ == "__main__":
    main()
