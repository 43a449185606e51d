"""The app served for real, for the browser tests: gunicorn on a free port, against real Redis and TimescaleDB.

One session: a fresh schema and fresh streams (as in tests/integration), an in-process ingest worker, a small
deterministic city fed through the streams (``feed.py``) and kept reporting, ``gunicorn app:server`` with two
workers, and Debian's Chromium driven by Playwright. Waits are bounded retries, never bare sleeps.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import expect

import bootstrap
from alerts import console
from settings import Settings
from tests.e2e import feed
from tests.integration.alerting import Receiver, with_receivers, write_rules
from tests.integration.conftest import wait_until
from tests.isolation import isolated
from tests.served import REPO, Account, Served, add_accounts, child_env, free_port, http_status  # noqa: F401

# Playwright's 5 s default is a guess about a quiet machine; CI's may be busy, and every expect is a wait for a
# condition, not a claim about speed, so it waits as long as the page may honestly take.
expect.set_options(timeout=30_000)

pytestmark = pytest.mark.e2e

SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
STALE_AFTER_S = 6  # small, so the "feeds stopped" test is quick


def _answers(check) -> bool:
    try:
        check()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def e2e_settings() -> Iterator[Settings]:
    """Fresh schema and streams for the session; both are removed afterwards."""
    base = Settings()
    client = bootstrap.redis_client(base)
    wait_until(lambda: _answers(client.ping), timeout=20, what=f"Redis at {base.redis_url}")
    wait_until(lambda: _answers(lambda: psycopg.connect(base.database_url, connect_timeout=2).close()), timeout=20,
               what=f"TimescaleDB at {base.database_url}")
    with isolated(base, ingest_block_ms=50, http_port=free_port(),
                  stale_after_s=STALE_AFTER_S, wall_interval_s=5, display_recheck_s=2,
                  signin_attempts_per_minute=10_000) as settings:
        yield settings


@pytest.fixture(scope="session")
def ingest(e2e_settings: Settings) -> Iterator[None]:
    """One ingest worker in a thread of the test process."""
    stop = threading.Event()
    worker = bootstrap.ingest_worker(e2e_settings, consumer="e2e-0")
    thread = threading.Thread(target=worker.run, args=(stop.is_set,), name="e2e-ingest", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def city_feed(e2e_settings: Settings, ingest) -> Iterator[feed.Feeder]:
    """The deterministic city, backfilled, ingested, and kept reporting every second."""
    client = bootstrap.redis_client(e2e_settings)
    city = bootstrap.city_map(e2e_settings)
    devices = feed.make_devices(city)
    feed.backfill(client, e2e_settings, devices, int(time.time() * 1000), city)
    stats = f"{e2e_settings.consumer_group}:stats"
    expected = sum(client.xlen(s) for s in e2e_settings.streams.values())
    wait_until(lambda: int(client.hget(stats, "inserted") or 0) >= expected, timeout=60, what="backfill ingested")
    feeder = feed.Feeder(client, e2e_settings, devices)
    feeder.start()
    yield feeder
    feeder.stop()
    feeder.join(timeout=5)


@pytest.fixture(scope="session")
def accounts(e2e_settings: Settings) -> dict[str, Account]:
    """An admin, an operator and a viewer in the session's schema."""
    return add_accounts(e2e_settings)


@pytest.fixture(scope="session")
def served(e2e_settings: Settings, city_feed, accounts, tmp_path_factory) -> Iterator[Served]:
    server = Served(e2e_settings, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()


class ConsoleWatch:
    """Console errors and uncaught exceptions of one page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


def _page(browser, width: int, height: int, sign_in: tuple[str, Account] | None = None):
    """A page in a new browser context, signed in (``(server url, account)``) before it opens anything."""
    context = browser.new_context(viewport={"width": width, "height": height})
    if sign_in is not None:
        url, account = sign_in
        reply = context.request.post(url + "/login", form={"username": account.username, "password": account.password},
                                     max_redirects=0)  # fmt: skip
        assert reply.status == 303, f"sign-in as {account.username}: HTTP {reply.status}"
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.console = ConsoleWatch(page)
    page.traffic = Traffic(page)
    return context, page


@pytest.fixture
def desktop(browser, served, accounts):
    """A 1440×900 page with its console watched, signed in as a viewer."""
    context, page = _page(browser, 1440, 900, (served.url, accounts["viewer"]))
    yield page
    context.close()


@pytest.fixture
def signed_out(browser, served):
    """A 1440×900 page with nobody signed in."""
    context, page = _page(browser, 1440, 900)
    yield page
    context.close()


@pytest.fixture
def wall(browser, served, accounts):
    """A 1920×1080 page (the wall screen) with its console watched, signed in as a viewer."""
    context, page = _page(browser, 1920, 1080, (served.url, accounts["viewer"]))
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Write ``docs/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


class Traffic:
    """Dash's callback requests in flight on a page, to wait until the page has settled."""

    def __init__(self, page) -> None:
        self.in_flight, self.last_change = 0, time.monotonic()
        page.on("request", lambda r: self._change(+1) if "_dash-update-component" in r.url else None)
        page.on("requestfinished", lambda r: self._change(-1) if "_dash-update-component" in r.url else None)
        page.on("requestfailed", lambda r: self._change(-1) if "_dash-update-component" in r.url else None)

    def _change(self, step: int) -> None:
        self.in_flight += step
        self.last_change = time.monotonic()

    def settled(self, quiet_s: float) -> bool:
        return self.in_flight <= 0 and time.monotonic() - self.last_change >= quiet_s


def settle(page, quiet_s: float = 0.8, timeout: float = 20.0) -> None:
    """Wait (bounded) until no callback request has started or finished for ``quiet_s``.

    Live pages tick every second, so for them a "quiet" moment is between two ticks.
    """
    deadline = time.monotonic() + timeout
    while not page.traffic.settled(quiet_s):
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.url} kept calling back for {timeout} s")
        page.wait_for_timeout(50)  # yields to Playwright's event loop, which records the requests


# --- alerting for the browser tests: an evaluator and a sender (threads) and a second dashboard ------------------
E2E_RULES = """
[[rule]]
id = "e2e_pm25_device"
type = "threshold"
severity = "critical"
summary = "PM2.5 at {subject} reads {value:.0f} µg/m³ (limit {threshold:.0f})"
labels = { team = "environment" }
match = { kind = "air_quality" }
metric = "pm25"
subject = "device"
reduce = "last"
threshold = 900
keep_firing_for = "1h"

[[rule]]
id = "e2e_pue_site"
type = "aggregate"
severity = "warning"
summary = "PUE at {subject} is {value:.2f}"
labels = { team = "energy" }
function = "pue"
window = "1m"
threshold = 5
keep_firing_for = "1h"

# A level no simulated gauge comes near: only tests/e2e/test_predicted_alerts.py's rising gauge heads for it.
[[rule]]
id = "e2e_gauge_forecast"
type = "forecast"
severity = "warning"
summary = "Water level at {subject} will reach {threshold:g} m in about {expected_in}"
labels = { team = "water" }
match = { kind = "water_level" }
metric = "level_m"
subject = "device"
op = ">="
threshold = 40
horizon = "30m"
window = "10m"
step = "1m"
min_points = 4
keep_firing_for = "1h"
"""
FUTIAN = {"lat": "22.543100", "lon": "114.059600"}


class Alerting:
    """A second dashboard whose alert store notifies the receiver, an evaluator and a sender (threads)."""

    def __init__(self, settings: Settings, receiver: Receiver, server: Served) -> None:
        self.settings, self.receiver, self.server = settings, receiver, server

    def types(self) -> list[str]:
        return [d.json["type"] for d in self.receiver.deliveries]


@pytest.fixture(scope="module")
def alerting(e2e_settings: Settings, served, tmp_path_factory) -> Iterator[Alerting]:
    tmp = tmp_path_factory.mktemp("alerting")
    receiver = Receiver().start()
    settings = with_receivers(e2e_settings, receiver, alert_rules_file=write_rules(tmp / "rules.toml", E2E_RULES),
                              alert_consumer_group=f"{e2e_settings.consumer_group}-alerts", http_port=free_port(),
                              alert_tick_s=0.2)  # fmt: skip
    secrets = json.dumps([{**r.model_dump(), "secret": r.secret.get_secret_value()} for r in settings.alert_receivers])
    server = Served(settings, tmp / "gunicorn.log", workers=1, env={"IOC_ALERT_RECEIVERS": secrets})
    stop = threading.Event()
    evaluator, sender = bootstrap.alert_evaluator(settings), bootstrap.alert_sender(settings)
    threads = [threading.Thread(target=w.run, args=(stop.is_set,), daemon=True) for w in (evaluator, sender)]
    for thread in threads:
        thread.start()
    server.start()
    try:
        yield Alerting(settings, receiver, server)
    finally:
        server.stop()
        stop.set()
        for thread in threads:
            thread.join(10)
        receiver.stop()


def fire(alerting: Alerting, device_id: str) -> dict:
    """A reading far over the rule's limit, XADDed once the evaluator reads the stream; the alert it fires."""
    settings = alerting.settings
    client = bootstrap.redis_client(settings)
    group = settings.alert_consumer_group.encode()
    wait_until(lambda: any(g["name"] == group for g in client.xinfo_groups(settings.stream_iot)),
               what="the evaluator's consumer group")  # fmt: skip
    client.xadd(settings.stream_iot, {"device_id": device_id, "kind": "air_quality", "metric": "pm25",
                                      "value": "987", "unit": "ug/m3", **FUTIAN})  # fmt: skip

    def fired() -> dict | None:
        with bootstrap.db_connection(settings) as conn:
            return next((a for a in console.open_alerts(conn) if a["subject"] == device_id), None)

    return wait_until(fired, timeout=20, what=f"an alert about {device_id}")


