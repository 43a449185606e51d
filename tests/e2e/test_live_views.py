"""The live views in a real browser against the served app: pages load clean, events show up unasked, the wall
rotates, says when data stops, and survives a server restart without a reload."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

import bootstrap
from tests.e2e.conftest import STALE_AFTER_S, screenshot, settle
from tests.integration.conftest import wait_until

PAGES = {"overview": "/", "map": "/map", "complaints": "/complaints", "datacenters": "/datacenters",
         "history": "/history", "pipeline": "/pipeline"}  # fmt: skip
WALL_VIEWS = ("overview", "map", "alerts", "energy")
FUTIAN = {"lat": "22.543100", "lon": "114.059600"}


def sensors_shown(page, view: str) -> int:
    """Sensors of every status in a view's legend. The city feed flips other sensors between statuses meanwhile,
    so only this total moves by exactly one when a new device reports."""
    text = page.locator(f'[id*="live-counts"][id*="\\"{view}\\""]').inner_text()
    return sum(int(n.replace(",", "")) for n in re.findall(r"(?:normal|warning|critical|stale) ([\d,]+)", text))


def probe_reading(settings, device_id: str) -> None:
    """A reading from a device never seen before, with a normal value."""
    client = bootstrap.redis_client(settings)
    client.xadd(settings.stream_iot, {"device_id": device_id, "kind": "air_quality", "metric": "pm25",
                                      "value": "12.5", "unit": "ug/m3", **FUTIAN})  # fmt: skip


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_without_console_errors(desktop, served, name):
    desktop.goto(served.url + PAGES[name])
    expect(desktop.locator("#_pages_content h1")).to_be_visible()
    if name == "overview":
        expect(desktop.locator(".freshness")).to_have_class(re.compile("freshness-ok"))
    settle(desktop)
    screenshot(desktop, f"desktop-{name}")
    assert desktop.console.errors == []


@pytest.mark.parametrize("view", WALL_VIEWS)
def test_every_wall_view_loads_without_console_errors(wall, served, view):
    wall.goto(f"{served.url}/wall?playlist={view}")
    expect(wall.locator(".wall-view-active")).to_be_visible()
    expect(wall.locator(".freshness")).to_have_class(re.compile("freshness-ok"))
    expect(wall.locator(".shell-header")).to_be_hidden()  # no navigation chrome on the wall
    settle(wall)
    screenshot(wall, f"wall-{view}")
    assert wall.console.errors == []


def test_an_event_appears_on_screen_by_itself(desktop, served, e2e_settings):
    desktop.goto(served.url + "/")
    expect(desktop.locator(".freshness")).to_have_class(re.compile("freshness-ok"))
    before = sensors_shown(desktop, "overview")
    probe_reading(e2e_settings, f"aq-probe-{time.time_ns()}")
    sent = time.monotonic()
    wait_until(lambda: sensors_shown(desktop, "overview") == before + 1, what="the new device on screen")
    # How soon is printed, not asserted: that depends on how busy the machine is, what is tested does not.
    print(f"event on screen after {time.monotonic() - sent:.2f} s")


def test_wall_rotates_through_its_playlist(wall, served):
    wall.goto(f"{served.url}/wall?playlist=overview,map&interval=5")
    title = wall.locator(".wall-title")
    expect(title).to_have_text("City overview")
    expect(title).to_have_text("Sensors across the city", timeout=8000)
    expect(wall.locator('.wall-view-active [id*="live-map"]')).to_be_visible()
    expect(title).to_have_text("City overview", timeout=8000)


def test_the_live_maps_show_the_status_clusters_of_the_city_map(desktop, wall, served):
    # The same clusters as /map (worst status first, a count per status), for each live map's one zoom.
    desktop.goto(served.url + "/")
    expect(desktop.locator(".overview-map .status-cluster").first).to_be_visible()
    wall.goto(f"{served.url}/wall?playlist=map")
    cluster = wall.locator(".wall-view-active .status-cluster").first
    expect(cluster).to_be_visible()
    assert re.fullmatch(r"[\d,]+ sensors(, (critical|warning|stale|normal) [\d,]+)+",
                        wall.locator(".wall-view-active .leaflet-marker-icon").first.get_attribute("title"))
    assert desktop.console.errors == [] and wall.console.errors == []


def test_wall_freshness_turns_red_in_words_when_feeds_stop(wall, served, city_feed):
    wall.goto(f"{served.url}/wall?playlist=overview")
    freshness = wall.locator(".freshness")
    expect(freshness).to_have_class(re.compile("freshness-ok"))
    city_feed.running.clear()
    try:
        expect(freshness).to_have_class(re.compile("freshness-stale"), timeout=(STALE_AFTER_S + 5) * 1000)
        expect(freshness).to_contain_text(re.compile(r"Data \d+ s old — feeds stopped\?"))
        screenshot(wall, "wall-stale")
    finally:
        city_feed.running.set()
    expect(freshness).to_have_class(re.compile("freshness-ok"), timeout=10_000)


def test_wall_resumes_by_itself_after_a_server_restart(wall, served, e2e_settings):
    wall.goto(f"{served.url}/wall?playlist=map")
    expect(wall.locator(".freshness")).to_have_class(re.compile("freshness-ok"))
    wall.evaluate("window.__same_page = true")
    served.restart()
    before = sensors_shown(wall, "wall-map")
    probe_reading(e2e_settings, f"aq-restart-{time.time_ns()}")
    wait_until(lambda: sensors_shown(wall, "wall-map") == before + 1, what="the new device on the restarted wall")
    assert wall.evaluate("window.__same_page === true"), "the page was reloaded"
    expect(wall.locator(".freshness")).to_have_class(re.compile("freshness-ok"))


def test_static_assets_are_cacheable_and_health_answers(served, accounts):
    import requests

    assert requests.get(served.url + "/healthz", timeout=5).status_code == 200
    viewer = requests.Session()
    account = accounts["viewer"]
    viewer.post(served.url + "/login", data={"username": account.username, "password": account.password}, timeout=10)
    html = viewer.get(served.url + "/wall", timeout=5).text
    asset = re.search(r"/assets/ioc_live\.css\?m=[\d.]+", html).group(0)
    suite = re.search(r'/_dash-component-suites/dash/deps/[^"]+\.js', html).group(0)
    for path in (asset, suite, "/geo/districts.geojson"):
        response = viewer.get(served.url + path, timeout=5)
        assert response.status_code == 200 and "max-age" in response.headers.get("Cache-Control", ""), path
