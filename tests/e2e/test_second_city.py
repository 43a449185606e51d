"""The whole IOC for a second city by configuration alone: with ``city="new-york"`` (IOC_CITY) the simulator
feeds New York, ingest assigns its community districts, the live snapshot counts its day in New York time
against its own targets, and the served overview and map show New York, its 59 districts and its sensors.

Its own schema, streams, ingest worker and gunicorn, beside the session's Shenzhen app (tests/e2e/conftest.py).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

import bootstrap
from cli.simulate import sim_config
from layouts.ids import MAP_LAYER_SENSORS
from live.builder import SnapshotBuilder
from live.store import LiveKeys, read_snapshot
from settings import Settings
from simulator.engine import CitySimulation
from simulator.publisher import publish
from tests.e2e.conftest import _page, screenshot, settle
from tests.e2e.test_pages_map import _component
from tests.integration.conftest import wait_until
from tests.isolation import isolated
from tests.served import Served, add_accounts, free_port

pytestmark = pytest.mark.e2e

SENSORS = 240
HISTORY_MS = 15 * 60_000  # the quarter hour before the test, simulated and ingested
WINDOW_MS = 10_000


@dataclasses.dataclass
class Fed:
    """What the simulator published: its devices and the complaints opened since New York's midnight."""

    devices: set[str]
    opened_today: int
    sites: set[str]


@pytest.fixture(scope="module")
def nyc_settings() -> Iterator[Settings]:
    # Built, not copied from the session's settings: the pack fills bounds, boundaries, time zone and rules.
    with isolated(Settings(city="new-york"), ingest_block_ms=50, http_port=free_port(),
                  signin_attempts_per_minute=10_000) as settings:  # fmt: skip
        yield settings


@pytest.fixture(scope="module")
def fed(nyc_settings: Settings) -> Iterator[Fed]:
    """The last quarter hour of simulated New York, through the streams and an ingest worker into the database."""
    s = nyc_settings
    stop = threading.Event()
    worker = bootstrap.ingest_worker(s, consumer="nyc-0")
    thread = threading.Thread(target=worker.run, args=(stop.is_set,), name="nyc-ingest", daemon=True)
    thread.start()
    config = dataclasses.replace(sim_config(s), sensors=SENSORS, readings_per_s=2.0, scheduled_incidents=False)
    sim = CitySimulation(bootstrap.city_map(s), config)
    now = int(time.time() * 1000)
    events = [e for t in range(now - HISTORY_MS, now, WINDOW_MS) for e in sim.window(t, min(t + WINDOW_MS, now))]
    client = bootstrap.redis_client(s)
    publish(client, s.shards, events)
    stats = f"{s.consumer_group}:stats"
    wait_until(lambda: int(client.hget(stats, "inserted") or 0) >= len(events), timeout=90, what="New York ingested")
    midnight = datetime.now(ZoneInfo("America/New_York")).replace(hour=0, minute=0, second=0, microsecond=0)
    opened_today = sum(1 for kind, f in events if kind == "complaints" and f["status"] == "open"
                       and datetime.fromisoformat(f["ts"]) >= midnight)  # fmt: skip
    yield Fed({c.device_id for c in sim.channels}, opened_today, {site.site for site in sim.sites})
    stop.set()
    thread.join(timeout=10)


def test_ingest_assigns_new_yorks_districts(nyc_settings, fed):
    city = bootstrap.city_map(nyc_settings)
    ids = {d.id for d in city.districts}
    with bootstrap.db_connection(nyc_settings) as conn:
        sensors = conn.execute("SELECT device_id, district, lon, lat FROM sensor_latest").fetchall()
        complaint_districts = {r[0] for r in conn.execute("SELECT DISTINCT district FROM complaints")}
    assert {device for device, *_ in sensors} == fed.devices
    for device, district, lon, lat in sensors:
        assert district in ids and city.district_at(lon, lat) == district, device
    assert complaint_districts and complaint_districts <= ids  # "Brooklyn CD 1" in an event is stored as bk01


def test_the_live_snapshot_is_new_yorks(nyc_settings, fed):
    s = nyc_settings
    builder = SnapshotBuilder(bootstrap.redis_client(s), lambda: bootstrap.db_connection(s), LiveKeys(s.consumer_group),
                              s.city_timezone, 0.0, 60.0, district_centres=bootstrap.district_centres(s),
                              bands=lambda: bootstrap.status_bands(s), kpi=s.city_pack.file.kpi)  # fmt: skip
    try:
        assert builder.step() is not None
    finally:
        builder.close()
    doc = read_snapshot(bootstrap.redis_client(s), LiveKeys(s.consumer_group)).doc
    west, south, east, north = s.city_pack.bounds
    assert {sensor["id"] for sensor in doc["sensors"]} == fed.devices
    assert all(west < sensor["lon"] < east and south < sensor["lat"] < north for sensor in doc["sensors"])
    assert {site["site"] for site in doc["sites"]} == fed.sites
    kpis = doc["kpis"]
    assert kpis["energy_saved_pct"]["baseline"] == 1.58  # New York's baseline, not Shenzhen's 1.6
    assert kpis["complaints_today"]["value"] == fed.opened_today  # "today" starts at midnight in New York
    assert kpis["complaints_open"]["value"] > 0


@pytest.fixture(scope="module")
def nyc_page(nyc_settings, fed, browser, tmp_path_factory):
    """The New York IOC served by gunicorn, and a signed-in 1440×900 page on it."""
    server = Served(nyc_settings, tmp_path_factory.mktemp("nyc-gunicorn") / "gunicorn.log", workers=1)
    accounts = add_accounts(nyc_settings)
    server.start()
    context, page = _page(browser, 1440, 900, (server.url, accounts["viewer"]))
    page.server_url = server.url
    yield page
    context.close()
    server.stop()


# What the live map drew (it draws on a canvas: outlines and sensors), against the map's own box: New York must
# fill the map, not lie off it.
DRAWN_IN_BOX = """(selector) => { const box = document.querySelector(selector).getBoundingClientRect();
    const r = {l: 1e9, t: 1e9, r: -1e9, b: -1e9};
    for (const c of document.querySelectorAll(selector + ' canvas')) {
        const at = c.getBoundingClientRect(), sx = at.width / c.width, sy = at.height / c.height;
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let y = 0; y < c.height; y += 2) for (let x = 0; x < c.width; x += 2) {
            if (px[(y * c.width + x) * 4 + 3] === 0) continue;
            r.l = Math.min(r.l, at.left + x * sx); r.r = Math.max(r.r, at.left + x * sx);
            r.t = Math.min(r.t, at.top + y * sy); r.b = Math.max(r.b, at.top + y * sy); } }
    const inside = r.l >= box.left - 4 && r.r <= box.right + 4 && r.t >= box.top - 4 && r.b <= box.bottom + 4;
    return {inside, share: Math.max((r.r - r.l) / box.width, (r.b - r.t) / box.height)}; }"""


def test_the_overview_shows_new_yorks_kpis_and_map(nyc_page):
    nyc_page.goto(nyc_page.server_url + "/")
    expect(nyc_page.locator(".kpi-label", has_text="Energy saved vs PUE 1.58")).to_be_visible()
    open_now = nyc_page.locator(".kpi", has=nyc_page.locator(".kpi-label", has_text="Open complaints"))
    expect(open_now.locator(".kpi-value")).not_to_have_text("–")
    settle(nyc_page)
    shown = wait_until(lambda: (found := nyc_page.evaluate(DRAWN_IN_BOX, ".live-map"))["share"] > 0.6 and found,
                       timeout=20, what="New York drawn on the overview's map")  # fmt: skip
    assert shown["inside"] and shown["share"] > 0.6, shown  # the whole city, filling most of the map
    assert nyc_page.console.errors == []


def test_the_wall_says_which_city(nyc_page):
    nyc_page.goto(nyc_page.server_url + "/wall?playlist=map")
    expect(nyc_page.locator(".wall-brand")).to_have_text("New York City IOC")
    assert nyc_page.console.errors == []


def test_the_map_shows_new_yorks_districts_and_sensors(nyc_page, nyc_settings, fed):
    with nyc_page.expect_response(lambda r: "/_dash-layout" in r.url) as answer:
        nyc_page.goto(nyc_page.server_url + "/map")
    nyc_page.wait_for_selector(".status-cluster")
    expect(nyc_page.locator("#map-sensor-count")).to_contain_text(f"{SENSORS} sensors")
    # the community districts' outlines: a callback's answer, which may come after the first clusters (they come
    # with the page)
    nyc_page.wait_for_function("() => document.querySelectorAll('.leaflet-overlay-pane path').length >= 59")
    nyc_page.locator("#map-filter-district").click()
    expect(nyc_page.locator(".Select-option, [role=option]").filter(has_text="Manhattan CD 1").first).to_be_visible()
    nyc_page.keyboard.press("Escape")
    features = _component(answer.value.json(), MAP_LAYER_SENSORS)["props"]["data"]["features"]
    west, south, east, north = nyc_settings.city_pack.bounds
    assert features and all(west < f["geometry"]["coordinates"][0] < east
                            and south < f["geometry"]["coordinates"][1] < north for f in features)  # fmt: skip
    shown = sum(f["properties"].get("n", 1) for f in features)  # a cluster carries its count, a sensor is one
    assert shown == SENSORS
    settle(nyc_page)
    screenshot(nyc_page, "desktop-map-new-york")
    assert nyc_page.console.errors == []
