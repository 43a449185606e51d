"""Soak: the whole system for N minutes at city load; does anything grow, does anything fall behind?

    .venv/bin/python bench/soak.py [--minutes 10] [--rate 20000] [--sensors 20000] [--displays 50]

On a fresh schema and fresh streams, as real processes: the simulated city (`ioc simulate --rate R`, a flood
and an air-quality incident starting with it, so alerts fire), `ioc ingest --workers 2`, `ioc alerts run`
(evaluator and webhook sender, the shipped rules and bands) posting to a local receiver, and the dashboard under
gunicorn with ``--displays`` wall displays refreshing every 2 s over HTTP (bench/dashboard.py's display client,
signed in with a display token).

Sampled every ``--sample-s``: the resident memory of every process (each process tree summed: gunicorn's master
and workers, the ingest parent and its workers) and Redis' ``used_memory``; every second, each consumer group's
lag in seconds: how long the oldest entry not yet handed to it has been waiting (by its id, Redis' clock).
Reported: per process its memory at the start and end of the steady part (the first ``--warm-up-min`` left out)
and its slope (least squares, MiB per minute); the cores each part used over the steady part (CPU seconds per
second, PostgreSQL, Redis and the display clients included), which says what a rate needs; each group's lag
p50 / p99 / max; the displays' refresh p95; readings stored, alerts fired, webhooks received. Figures in
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import redis
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.alerts import fresh_settings  # noqa: E402
from bench.dashboard import Credentials, run_step, serve, wall_payload  # noqa: E402
from bench.proc_cpu import all_processes  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.integration.alerting import Receiver, start_alerts, with_receivers  # noqa: E402
from tests.integration.processes import settings_env, start_ingest  # noqa: E402
from tests.served import free_port  # noqa: E402

PAGE = 4096


def tree_of(procs: dict[int, tuple[int, str, float]], root: int) -> set[int]:
    """A process and all its descendants."""
    tree, grew = {root}, True
    while grew:
        children = {pid for pid, (ppid, _name, _cpu) in procs.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def rss_mib(tree: set[int]) -> float:
    """Resident memory of these processes, MiB."""
    total = 0
    for pid in tree:
        with contextlib.suppress(OSError, IndexError, ValueError):  # it ended between the listing and the read
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total / 1_048_576


def cpu_by_part(procs: dict[int, tuple[int, str, float]], roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each part: our process trees, and PostgreSQL, Redis and this benchmark (its
    display clients) by process, so the report can say where the machine's cores went."""
    used = {name: sum(procs[pid][2] for pid in tree_of(procs, root) if pid in procs) for name, root in roots.items()}
    used["PostgreSQL"] = sum(cpu for _ppid, name, cpu in procs.values() if name.startswith("postgres"))
    used["Redis"] = sum(cpu for _ppid, name, cpu in procs.values() if name.startswith("redis-server"))
    used["display clients (this benchmark)"] = procs.get(os.getpid(), (0, "", 0.0))[2]
    return used


def slope_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples, per minute."""
    if len(samples) < 2:
        return float("nan")
    xs, ys = [t for t, _ in samples], [v for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else float("nan")


def id_ms(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-")[0])


def lag_s(client: redis.Redis, stream: str, group: str) -> float | None:
    """How long the oldest entry not yet handed to ``group`` has been waiting, in seconds (0 when none is).

    The entry's id is its arrival time in ms on Redis' clock, and "now" is read from Redis too (``TIME``). (The
    distance between the newest entry and the newest one handed over would read seconds on a sparse stream
    whose next entry had only just arrived.)"""
    try:
        mine = next((g for g in client.xinfo_groups(stream) if g["name"].decode() == group), None)
        if mine is None:
            return None
        waiting = client.xrange(stream, min=b"(" + mine["last-delivered-id"], count=1)
        seconds, micros = client.time()
    except redis.ResponseError:
        return None
    if not waiting:
        return 0.0
    return max(0.0, (seconds * 1000 + micros / 1000 - id_ms(waiting[0][0])) / 1000)


class Sampler(threading.Thread):
    """Memory every ``every_s`` and lag every second, until stopped."""

    def __init__(self, procs: dict[str, int], client: redis.Redis, groups: dict[str, tuple[str, str]],
                 every_s: float) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.procs, self.client, self.groups, self.every_s = procs, client, groups, every_s
        self.memory: dict[str, list[tuple[float, float]]] = {name: [] for name in [*procs, "redis"]}
        self.lags: dict[str, list[tuple[float, float]]] = {name: [] for name in groups}
        self.cpu: list[tuple[float, dict[str, float]]] = []  # (seconds, CPU seconds used so far per part)
        self.readings: list[tuple[float, int]] = []  # (seconds, readings ever added to the sensor stream)
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        next_memory = 0.0
        while not self.stop.wait(1.0):
            now = time.monotonic() - self.started
            for name, (stream, group) in self.groups.items():
                lag = lag_s(self.client, stream, group)
                if lag is not None:
                    self.lags[name].append((now, lag))
            if now >= next_memory:
                next_memory = now + self.every_s
                procs = all_processes()
                for name, pid in self.procs.items():
                    self.memory[name].append((now, rss_mib(tree_of(procs, pid))))
                self.cpu.append((now, cpu_by_part(procs, self.procs)))
                iot = self.groups["iot / ingest"][0]
                with contextlib.suppress(redis.ResponseError):  # not created yet
                    self.readings.append((now, int(self.client.xinfo_stream(iot)["entries-added"])))
                self.memory["redis"].append((now, self.client.info("memory")["used_memory"] / 1_048_576))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def soak(args: argparse.Namespace) -> None:
    logs = Path(tempfile.mkdtemp(prefix="ioc-soak-"))
    receiver = Receiver().start()
    base = fresh_settings(Settings(), Settings().alert_rules_file)
    # Every display exchanges its token from this one address: the per-address sign-in limit would refuse most.
    # The whole simulated city is new in the first minute: the cap on new devices a minute (5,000 by default, a
    # guard against a producer inventing ids) would dead-letter most of it for minutes, so it is the city's size.
    new_devices = max(base.ingest_new_devices_per_min, 2 * args.sensors)
    settings = with_receivers(base, receiver, http_port=free_port(), sim_sensors=args.sensors,
                              sim_readings_per_s=args.rate, signin_attempts_per_minute=1_000_000,
                              ingest_new_devices_per_min=new_devices)  # fmt: skip
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    client = bootstrap.redis_client(settings)
    started: list[subprocess.Popen] = []
    try:
        # receivers (and their secrets) are the sender's business only: the other processes go without them
        plain = settings.model_copy(update={"alert_receivers": ()})
        ingest = start_ingest(plain, "--workers", "2", log=logs / "ingest.log")
        started.append(ingest)  # each as soon as it runs, so a failure further on stops it too
        alerts = start_alerts(settings, log=logs / "alerts.log")
        started.append(alerts)
        simulator = subprocess.Popen([sys.executable, "-m", "cli.main", "simulate", "--incident", "flood",
                                      "--incident", "air"], cwd=REPO,
                                     env=settings_env(plain), stdout=open(logs / "simulate.log", "ab"),  # noqa: SIM115
                                     stderr=subprocess.STDOUT)  # fmt: skip
        started.append(simulator)
        dashboard = serve(plain, "app:server", logs / "gunicorn.log")
        started.append(dashboard)
        url = f"http://{settings.http_host}:{settings.http_port}"
        credentials = Credentials(settings, args.displays)
        payload = wall_payload(url, credentials.display_token)
        groups = {
            f"{name} / ingest": (stream, settings.consumer_group) for name, stream in settings.streams.items()
        } | {"iot / alerts": (settings.stream_iot, settings.alert_consumer_group)}
        sampler = Sampler({"ingest (2 workers)": ingest.pid, "alerts": alerts.pid, "simulator": simulator.pid,
                           "dashboard (gunicorn)": dashboard.pid}, client, groups, args.sample_s)  # fmt: skip
        sampler.start()
        print(f"soaking {args.minutes} min at {args.rate:,} readings/s with {args.displays} displays; logs in {logs}")
        walls = run_step(url, payload, args.displays, args.minutes * 60, 2.0, settings, "display", credentials,
                         join_per_s=25.0)  # fmt: skip
        sampler.stop.set()
        sampler.join()
        report(args, sampler, walls, settings, receiver)
    finally:
        for proc in reversed(started):
            proc.terminate()
        for proc in started:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        receiver.stop()
        for stream in settings.streams.values():
            client.delete(stream)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))


def report(args: argparse.Namespace, sampler: Sampler, walls: dict, settings: Settings, receiver: Receiver) -> None:
    steady_from = args.warm_up_min * 60
    print(f"\nmemory, steady part (after {args.warm_up_min:g} min):")
    print(f"{'process':<24}{'start MiB':>11}{'end MiB':>10}{'slope MiB/min':>15}")
    for name, samples in sampler.memory.items():
        steady = [(t, v) for t, v in samples if t >= steady_from]
        if steady:
            print(f"{name:<24}{steady[0][1]:>11.1f}{steady[-1][1]:>10.1f}{slope_per_min(steady):>15.2f}")
    steady_cpu = [(t, used) for t, used in sampler.cpu if t >= steady_from]
    steady_readings = [(t, n) for t, n in sampler.readings if t >= steady_from]
    if len(steady_cpu) >= 2 and len(steady_readings) >= 2:
        (t0, first), (t1, last) = steady_cpu[0], steady_cpu[-1]
        rate = (steady_readings[-1][1] - steady_readings[0][1]) / (steady_readings[-1][0] - steady_readings[0][0])
        print(f"\ncores used, steady part (CPU seconds per second; the machine has {os.cpu_count()}), and CPU per "
              f"reading at the {rate:,.0f} readings/s the simulator reached:")
        for name in [*last, "all of the above"]:
            cores = (sum(last[n] - first.get(n, 0.0) for n in last) if name not in last
                     else last[name] - first.get(name, 0.0)) / (t1 - t0)  # fmt: skip
            print(f"{name:<36}{cores:>8.2f}{1e6 * cores / rate if rate else float('nan'):>10.1f} µs")
    print("\nconsumer-group lag, seconds the oldest entry not yet read has waited (every second, whole run):")
    print(f"{'group':<22}{'p50':>8}{'p99':>8}{'max':>8}")
    for name, samples in sampler.lags.items():
        values = [v for _, v in samples]
        print(f"{name:<22}{pct(values, 0.5):>8.2f}{pct(values, 0.99):>8.2f}{max(values, default=float('nan')):>8.2f}")
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(settings.db_schema)))
        stored = conn.execute("SELECT count(*) FROM sensor_readings").fetchone()[0]
        fired = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    print(f"\nwall displays: {walls['refreshes']:,} refreshes, p95 {walls['p95_ms']} ms, errors {walls['errors']}")
    print(f"readings stored {stored:,}; alerts fired {fired:,}; webhooks received {len(receiver.deliveries):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=20_000, help="simulated readings per second")
    parser.add_argument("--sensors", type=int, default=20_000, help="simulated IoT devices")
    parser.add_argument("--displays", type=int, default=50)
    parser.add_argument("--sample-s", type=float, default=10.0, help="seconds between memory samples")
    parser.add_argument("--warm-up-min", type=float, default=1.0, help="minutes left out of the memory slopes")
    soak(parser.parse_args())


if __name__ == "__main__":
    main()
