"""A predicted alert (a forecast rule's, raised by the real evaluator) on the map, the overview and the wall with
its lead time, and the forecast drawn after the sensor's readings in its panel."""

import time

import pytest
from playwright.sync_api import expect

import bootstrap
from alerts import console
from tests.e2e.conftest import screenshot, settle
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.e2e
GAUGE = "wl-e2e-rising"
SPOT = {"lat": "22.560713", "lon": "114.097329"}  # a spot of its own, so at zoom 19 it is the one dot at the centre
CLICK_DOT = """(c) => {
    for (const p of document.querySelectorAll('path.leaflet-interactive[fill-opacity="0.9"]')) {
    const b = p.getBoundingClientRect();
    if (b.left <= c[0] && c[0] <= b.right && b.top <= c[1] && c[1] <= b.bottom) {
        p.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: c[0], clientY: c[1]})); return true; } }
    return false; }"""


def _rising_gauge(alerting) -> dict:
    """Six minutes of a gauge climbing 4 m a minute towards the rule's 40 m, the newest reading now (about four
    minutes short of it), XADDed once the evaluator reads the stream; the predicted alert it raises."""
    settings = alerting.settings
    client = bootstrap.redis_client(settings)
    group = settings.alert_consumer_group.encode()
    wait_until(lambda: any(g["name"] == group for g in client.xinfo_groups(settings.stream_iot)),
               what="the evaluator's consumer group")  # fmt: skip
    now_ms = int(time.time() * 1000)
    for minutes_ago in range(6, -1, -1):
        client.xadd(settings.stream_iot, {"device_id": GAUGE, "kind": "water_level", "metric": "level_m",
                                          "value": f"{24 - 4 * minutes_ago:.1f}", "unit": "m", **SPOT,
                                          "ts": str(now_ms - minutes_ago * 60_000)})  # fmt: skip

    def predicted() -> dict | None:
        with bootstrap.db_connection(settings) as conn:
            return next((a for a in console.open_alerts(conn) if a["subject"] == GAUGE), None)

    return wait_until(predicted, timeout=30, what=f"a predicted alert about {GAUGE}")


def test_a_predicted_alert_shows_its_lead_time_on_the_map_overview_and_wall(desktop, wall, served, alerting):
    alert = _rising_gauge(alerting)
    assert alert["rule_id"] == "e2e_gauge_forecast" and alert["predicted"]
    desktop.goto(served.url + "/map")
    label = desktop.locator(".alert-lead-label", has_text=GAUGE)
    expect(label).to_be_visible(timeout=30_000)
    expect(label).to_contain_text("in ")  # "in 4 minutes": how long until the level, not when it fired
    expect(label).to_contain_text("minute")
    settle(desktop)
    screenshot(desktop, "desktop-map-predicted")
    desktop.goto(alerting.server.url + "/")  # a dashboard reading the same rules file as the evaluator
    predicted = desktop.locator(".alerts-list li.alert-predicted", has_text=GAUGE)
    expect(predicted).to_be_visible(timeout=30_000)
    expect(predicted.locator(".alert-lead")).to_contain_text("minute")
    expect(predicted).to_contain_text("will reach 40 m")
    lead = predicted.locator(".alert-lead").inner_text()  # "in 4 minutes"
    # the summary, written from the rule in the reader's language, counts from now too
    assert f"in about {lead.removeprefix('in ')}" in predicted.inner_text()
    wall.goto(alerting.server.url + "/wall?playlist=alerts")
    expect(wall.locator(".wall-alerts li.alert-predicted", has_text=GAUGE)).to_be_visible(timeout=30_000)
    settle(wall)
    screenshot(wall, "wall-alerts-predicted")
    assert desktop.console.errors == [] and wall.console.errors == []


def test_the_sensor_panel_draws_the_forecast_after_the_readings(desktop, served, alerting):
    _rising_gauge(alerting)
    desktop.goto(served.url + "/map")
    expect(desktop.locator(".alert-lead-label", has_text=GAUGE)).to_be_visible(timeout=30_000)
    settle(desktop)
    # Centre the map on the gauge at a zoom past clustering, then click its dot (as tests/e2e/test_map_status.py).
    desktop.evaluate("""(p) => window.dash_clientside.set_props('map-map', {viewport: {center: [p.lat, p.lon],
        zoom: 19, transition: 'setView', options: {animate: false}}})""", {"lat": float(SPOT["lat"]),
                                                                           "lon": float(SPOT["lon"])})  # fmt: skip
    box = desktop.locator("#map-map").bounding_box()
    centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
    wait_until(lambda: desktop.evaluate(CLICK_DOT, centre), timeout=20, what="the gauge's dot at the map's centre")
    expect(desktop.locator("#map-panel-title")).to_have_text(f"Sensor {GAUGE}")
    legend = desktop.locator("#map-history .legendtext")
    expect(legend.filter(has_text="forecast, 80% interval")).to_have_count(1)
    expect(legend.filter(has_text="forecast rule's level")).to_have_count(1)
    assert desktop.console.errors == []
