"""How many wall displays one 2-core box serves, signed in, against the same app with no session check.

    .venv/bin/python bench/dashboard.py [--clients 200 1000] [--step-s 20] [--period-s 2] [--variants …]

On a fresh schema and fresh streams: a city of 2,000 sensors (3 data centres, a day of complaints) backfilled
and kept reporting through the real ingest worker; then, for each variant, ``gunicorn`` with two workers and N
simulated wall displays. Each display signs in, loads the wall's live callback in full, then every ``period_s``
posts the very payload the browser posts (captured from a real /wall page in Chromium), carrying back the
``live-seen`` state the server returned, as the browser does. Printed per N: requests, p50/p95 refresh latency,
database transactions per second; then the largest N with p95 under 300 ms, and each variant's p95 against
``open``'s at the same N (the same run).

* ``open``: ``bench.dashboard_open_app:server``, the app with the sign-in gate replaced by "let everyone in":
  the baseline, what the dashboard cost before accounts.
* ``display``: ``app:server`` as shipped; each screen exchanges a display token once (``/wall?token=…``) and
  polls with its display session (re-checked against the database every ``IOC_DISPLAY_RECHECK_S``).
* ``person``: ``app:server``; each screen holds a viewer's session, checked against the database on every
  request (sessions minted straight in the database: a thousand argon2 sign-ins would only measure argon2).
* ``query``: ``bench.dashboard_app:server`` with display sessions, plus one database query per refresh.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
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

VARIANTS = {"open": "bench.dashboard_open_app:server", "display": "app:server", "person": "app:server",
            "query": "bench.dashboard_app:server"}  # fmt: skip
TARGET_P95_MS = 300.0
WARM_UP_TICKS = 2
GENERATORS = 4  # load-generating processes at most
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


class Credentials:
    """How a simulated screen signs in, per variant: a display token, a viewer's session, or nothing."""

    def __init__(self, settings: Settings, clients: int) -> None:
        from auth import store
        from auth.principal import cli_principal
        from auth.tokens import new_token, token_digest

        commands = bootstrap.access_commands(settings, lambda: bootstrap.db_connection(settings))
        self.display_token = commands.issue_display(cli_principal("bench"), "bench-wall", ["overview", "map"],
                                                    30).secret  # fmt: skip
        commands.add_user(cli_principal("bench"), "bench.viewer", "viewer", "", "bench viewer password")
        self.person_tokens = [new_token() for _ in range(clients)]
        with bootstrap.db_connection(settings) as conn:
            user_id = store.user_by_name(conn, "bench.viewer")["id"]
            expires = datetime.now(UTC) + timedelta(days=1)
            for token in self.person_tokens:
                store.create_session(conn, token_digest(token), expires, "127.0.0.1", user_id=user_id)

    def sign_in(self, session: requests.Session, url: str, variant: str, index: int) -> None:
        if variant == "person":
            session.cookies.set("ioc_session", self.person_tokens[index])
        elif variant != "open":
            reply = session.get(f"{url}/wall?token={self.display_token}", timeout=30)
            assert reply.url == url + "/wall", f"display token refused: {reply.status_code}"


def wall_payload(url: str, display_token: str) -> dict:
    """The body the wall page posts for its live callback, captured from Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        live = lambda r: "_dash-update-component" in r.url and "live-seen" in (r.post_data or "")  # noqa: E731
        with page.expect_request(live) as req:
            page.goto(f"{url}/wall?token={display_token}")
        body = json.loads(req.value.post_data)
        browser.close()
    return body


class Display(threading.Thread):
    """One wall display: a full load, then a refresh every ``period_s`` carrying back its ``live-seen``."""

    def __init__(self, url: str, payload: dict, period_s: float, join_at: float, measure_from: float, until: float,
                 latencies: list[float], session: requests.Session) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.url, self.payload, self.period_s, self.until, self.latencies = url, payload, period_s, until, latencies
        self.join_at, self.measure_from, self.session, self.errors = join_at, measure_from, session, 0

    def run(self) -> None:
        session, body, seen = self.session, copy.deepcopy(self.payload), {}
        # Screens are switched on over the ramp, not in one instant, and are not in step with each other.
        time.sleep(max(0.0, self.join_at - time.monotonic()) + random.uniform(0, self.period_s))
        tick, next_at = 0, time.monotonic()
        while time.monotonic() < self.until:
            body["inputs"][0]["value"], body["state"][0]["value"] = tick, seen
            started = time.monotonic()
            try:
                response = session.post(self.url + "/_dash-update-component", json=body, timeout=10)
                data = response.json()["response"] if response.status_code == 200 else {}
                seen = data.get("live-seen", {}).get("data", seen)
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code}")
                if tick >= WARM_UP_TICKS and started >= self.measure_from:  # steady state: every screen is on
                    self.latencies.append(time.monotonic() - started)
            except (requests.RequestException, ValueError):
                self.errors += started >= self.measure_from
            tick += 1
            next_at += self.period_s
            time.sleep(max(0.0, next_at - time.monotonic()))


def db_transactions(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database"
                            " WHERE datname = current_database()").fetchone()[0]


def drive(url: str, payload: dict, period_s: float, joins: list[float], measure_from: float, until: float,
          cookies: list[dict]) -> tuple[list[float], int]:
    """One load-generating process: a thread per display; its latencies and errors."""
    latencies: list[float] = []
    displays = []
    for join_at, jar in zip(joins, cookies, strict=True):
        session = requests.Session()
        session.cookies.update(jar)
        displays.append(Display(url, payload, period_s, join_at, measure_from, until, latencies, session))
    for d in displays:
        d.start()
    for d in displays:
        d.join()
    return latencies, sum(d.errors for d in displays)


def run_step(url: str, payload: dict, clients: int, step_s: float, period_s: float, settings: Settings,
             variant: str, credentials: Credentials, join_per_s: float) -> dict:  # fmt: skip
    cookies = []
    for index in range(clients):  # signed in before the clock starts: the step measures refreshes only
        session = requests.Session()
        credentials.sign_in(session, url, variant, index)
        cookies.append(session.cookies.get_dict())
    start = time.monotonic()
    ramp_s = clients / join_per_s
    measure_from = start + ramp_s + (WARM_UP_TICKS + 1) * period_s
    until = measure_from + step_s
    joins = [start + i / join_per_s for i in range(clients)]
    # Several generating processes: a thousand threads behind one GIL measure the generator, not the server.
    procs = max(1, min(GENERATORS, clients // 100))
    with ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(drive, url, payload, period_s, joins[i::procs], measure_from, until, cookies[i::procs])
                   for i in range(procs)]  # fmt: skip
        time.sleep(max(0.0, measure_from - time.monotonic()))
        tx0, t0 = db_transactions(settings), time.monotonic()
        results = [f.result() for f in futures]
    tx_rate = (db_transactions(settings) - tx0) / (time.monotonic() - t0)
    ms = sorted(x * 1000 for latencies, _ in results for x in latencies)
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else float("nan")  # noqa: E731
    return {"clients": clients, "refreshes": len(ms), "errors": sum(errors for _, errors in results),
            "p50_ms": round(pick(0.50), 1), "p95_ms": round(pick(0.95), 1),
            "mean_ms": round(statistics.fmean(ms), 1) if ms else None, "db_tx_per_s": round(tx_rate, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[200, 600, 1000])
    parser.add_argument("--step-s", type=float, default=20.0, help="Seconds per client count.")
    parser.add_argument("--period-s", type=float, default=2.0, help="Seconds between two refreshes of a display.")
    parser.add_argument("--variants", nargs="+", default=["open", "display", "person"], choices=list(VARIANTS))
    parser.add_argument("--join-per-s", type=float, default=100.0,
                        help="Screens switched on per second before the step is measured (a storm of first loads "
                             "is a different test).")  # fmt: skip
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:8]
    settings = Settings().model_copy(update={
        "db_schema": f"bench_{tag}", "stream_iot": f"bench{tag}:iot", "stream_complaints": f"bench{tag}:complaints",
        "stream_datacenter": f"bench{tag}:datacenter", "stream_deadletter": f"bench{tag}:deadletter",
        "consumer_group": f"bench{tag}", "ingest_block_ms": 50, "http_port": 18050,
        "signin_attempts_per_minute": 1_000_000,  # every screen exchanges its token from this one address
    })  # fmt: skip
    stop, ingest, feeder = city(settings)
    credentials = Credentials(settings, max(args.clients))
    results: dict[str, list[dict]] = {}
    try:
        for variant in args.variants:
            proc = serve(settings, VARIANTS[variant], Path(f"/tmp/bench-dashboard-{variant}.log"))
            url = f"http://{settings.http_host}:{settings.http_port}"
            try:
                payload = wall_payload(url, credentials.display_token)
                results[variant] = []
                for clients in args.clients:
                    row = run_step(url, payload, clients, args.step_s, args.period_s, settings, variant, credentials,
                                   args.join_per_s)  # fmt: skip
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
    baseline = {r["clients"]: r["p95_ms"] for r in results.get("open", [])}
    for variant, rows in results.items():
        ratios = [f"{r['clients']}: {r['p95_ms'] / baseline[r['clients']]:.2f}x" for r in rows
                  if variant != "open" and baseline.get(r["clients"])]  # fmt: skip
        if ratios:
            print(f"{variant} p95 against open (same run): {', '.join(ratios)}")


if __name__ == "__main__":
    main()
