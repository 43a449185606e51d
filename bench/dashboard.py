"""How many wall displays one 2-core box serves: live snapshot against one database query per refresh.

    .venv/bin/python bench/dashboard.py [--clients 50 100 200 300 400] [--step-s 20] [--period-s 2]

On a fresh schema and fresh streams: a city of 2,000 sensors (3 data centres, a day of complaints) backfilled
and kept reporting through the real ingest worker; then, for each server variant, ``gunicorn`` with two
workers and N simulated wall displays. Each display first loads the wall's live callback in full, then every
``period_s`` posts the very payload the browser posts (captured from a real /wall page in Chromium), carrying
back the ``live-seen`` state the server returned, as the browser does. Printed per N: requests, p50/p95 refresh
latency, database transactions per second; then the largest N with p95 under 300 ms.

* ``snapshot``: ``app:server``, the shipped design (viewers read the Redis snapshot through a process cache).
* ``query``: ``bench.dashboard_app:server``, the same plus one database query per refresh.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.e2e import feed  # noqa: E402
from tests.e2e.conftest import child_env  # noqa: E402

VARIANTS = {"snapshot": "app:server", "query": "bench.dashboard_app:server"}
TARGET_P95_MS = 300.0
WARM_UP_TICKS = 2
SENSORS = 2000


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.1)


def city(settings: Settings) -> tuple[threading.Event, threading.Thread, feed.Feeder]:
    """Migrate, start an ingest worker thread, backfill the city, keep it reporting (~200 readings/s)."""
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    stop = threading.Event()
    worker = bootstrap.ingest_worker(settings, consumer="bench-0")
    ingest = threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True)
    ingest.start()
    client, city_map = bootstrap.redis_client(settings), bootstrap.city_map(settings)
    devices = feed.make_devices(city_map, count=SENSORS)
    feed.backfill(client, settings, devices, int(time.time() * 1000), city_map)
    total = sum(client.xlen(s) for s in settings.streams.values())
    wait(lambda: int(client.hget(f"{settings.consumer_group}:stats", "inserted") or 0) >= total, 300, "backfill")
    feeder = feed.Feeder(client, settings, devices, period_s=10.0)
    feeder.start()
    return stop, ingest, feeder


def serve(settings: Settings, target: str, log: Path) -> subprocess.Popen:
    url = f"http://{settings.http_host}:{settings.http_port}"
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", target, "--bind", url[7:], "--workers", "2",
                             "--threads", "16", "--keep-alive", "10"], cwd=REPO, env=child_env(settings),
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait(lambda: _ok(url + "/healthz"), 60, f"gunicorn {target}")
    return proc


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wall_payload(url: str) -> dict:
    """The body the wall page posts for its live callback, captured from Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        live = lambda r: "_dash-update-component" in r.url and "live-seen" in (r.post_data or "")  # noqa: E731
        with page.expect_request(live) as req:
            page.goto(url + "/wall")
        body = json.loads(req.value.post_data)
        browser.close()
    return body


class Display(threading.Thread):
    """One wall display: a full load, then a refresh every ``period_s`` carrying back its ``live-seen``."""

    def __init__(self, url: str, payload: dict, period_s: float, until: float, latencies: list[float]) -> None:
        super().__init__(daemon=True)
        self.url, self.payload, self.period_s, self.until, self.latencies = url, payload, period_s, until, latencies
        self.errors = 0

    def run(self) -> None:
        session, body, seen = requests.Session(), copy.deepcopy(self.payload), {}
        time.sleep(random.uniform(0, self.period_s))  # displays are not in step with each other
        tick, next_at = 0, time.monotonic()
        while time.monotonic() < self.until:
            body["inputs"][0]["value"], body["state"][0]["value"] = tick, seen
            started = time.monotonic()
            try:
                response = session.post(self.url + "/_dash-update-component", json=body, timeout=10)
                data = response.json()["response"] if response.status_code == 200 else {}
                seen = data.get("live-seen", {}).get("data", seen)
                if tick >= WARM_UP_TICKS:  # the first is the page load; all displays load at once at start
                    self.latencies.append(time.monotonic() - started)
            except (requests.RequestException, ValueError):
                self.errors += 1
            tick += 1
            next_at += self.period_s
            time.sleep(max(0.0, next_at - time.monotonic()))


def db_transactions(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database"
                            " WHERE datname = current_database()").fetchone()[0]


def run_step(url: str, payload: dict, clients: int, step_s: float, period_s: float, settings: Settings) -> dict:
    latencies: list[float] = []
    until = time.monotonic() + step_s
    displays = [Display(url, payload, period_s, until, latencies) for _ in range(clients)]
    tx0, t0 = db_transactions(settings), time.monotonic()
    for d in displays:
        d.start()
    for d in displays:
        d.join()
    tx_rate = (db_transactions(settings) - tx0) / (time.monotonic() - t0)
    ms = sorted(x * 1000 for x in latencies)
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")  # noqa: E731
    return {"clients": clients, "refreshes": len(ms), "errors": sum(d.errors for d in displays),
            "p50_ms": round(pick(0.50), 1), "p95_ms": round(pick(0.95), 1),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None, "db_tx_per_s": round(tx_rate, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 100, 200, 300, 400, 600])
    parser.add_argument("--step-s", type=float, default=20.0, help="Seconds per client count.")
    parser.add_argument("--period-s", type=float, default=2.0, help="Seconds between two refreshes of a display.")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    settings = Settings().model_copy(update={
        "db_schema": f"bench_{tag}", "stream_iot": f"bench{tag}:iot", "stream_complaints": f"bench{tag}:complaints",
        "stream_datacenter": f"bench{tag}:datacenter", "stream_deadletter": f"bench{tag}:deadletter",
        "consumer_group": f"bench{tag}", "ingest_block_ms": 50, "http_port": 18050,
    })  # fmt: skip
    stop, ingest, feeder = city(settings)
    results: dict[str, list[dict]] = {}
    try:
        for variant in args.variants:
            proc = serve(settings, VARIANTS[variant], Path(f"/tmp/bench-dashboard-{variant}.log"))
            url = f"http://{settings.http_host}:{settings.http_port}"
            try:
                payload = wall_payload(url)
                results[variant] = []
                for clients in args.clients:
                    row = run_step(url, payload, clients, args.step_s, args.period_s, settings)
                    results[variant].append(row)
                    print(variant, json.dumps(row), flush=True)
                    if row["p95_ms"] > 4 * TARGET_P95_MS:
                        break  # far past the target: more clients only queue
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    finally:
        feeder.stop()
        stop.set()
        ingest.join(timeout=30)
        client = bootstrap.redis_client(settings)
        for key in client.scan_iter(match=f"bench{tag}*"):
            client.delete(key)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))
    print("\n| variant | clients | refreshes | errors | p50 ms | p95 ms | DB tx/s |\n|---|---|---|---|---|---|---|")
    for variant, rows in results.items():
        for r in rows:
            print(f"| {variant} | {r['clients']} | {r['refreshes']} | {r['errors']} | {r['p50_ms']} | {r['p95_ms']} "
                  f"| {r['db_tx_per_s']} |")
    for variant, rows in results.items():
        ok = [r["clients"] for r in rows if r["p95_ms"] < TARGET_P95_MS and not r["errors"]]
        print(f"{variant}: largest N with p95 < {TARGET_P95_MS:.0f} ms: {max(ok) if ok else 'none'}")


if __name__ == "__main__":
    main()
