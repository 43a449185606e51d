"""One truth for status, in a real browser: a sensor red on the map says which band and level make it so, and
links to the alert that band opened.

An evaluator (a thread of this module) watches the shipped status bands, the same ones the served dashboard colours
the map by; its clock is moved past the band's hold by the test, never waited for.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

import bootstrap
from live.store import LiveKeys, read_snapshot
from settings import Settings
from tests.e2e.conftest import settle
from tests.e2e.test_accessibility import _violations
from tests.integration.alerting import MovedClock, evaluator_on_clock, write_rules
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.e2e

# A spot of its own in Futian, so at the highest zoom the probe is the one sensor under the map's centre.
PROBE = {"lat": "22.551713", "lon": "114.087329"}


@pytest.fixture(scope="module")
def band_evaluator(e2e_settings: Settings, served, tmp_path_factory) -> Iterator[tuple[Settings, MovedClock]]:
    """An evaluator of the shipped bands alone (their alerts kept open for the module), on a movable clock."""
    shipped = Settings().alert_rules_file.read_text(encoding="utf-8")
    rules = '[defaults]\nkeep_firing_for = "1h"\n\n' + shipped[shipped.index("\n[[band]]\n") + 1 :]
    settings = e2e_settings.model_copy(update={
        "alert_rules_file": write_rules(tmp_path_factory.mktemp("bands") / "rules.toml", rules),
        "alert_consumer_group": f"{e2e_settings.consumer_group}-bands", "alert_tick_s": 0.2,
    })  # fmt: skip
    with evaluator_on_clock(settings) as clock:
        yield settings, clock


def test_clicking_a_critical_sensor_names_its_band_and_threshold_and_links_its_alert(desktop, served, band_evaluator):
    settings, clock = band_evaluator
    client = bootstrap.redis_client(settings)
    device_id = f"aq-probe-{time.time_ns()}"
    group = settings.alert_consumer_group.encode()
    entry = client.xadd(settings.stream_iot, {"device_id": device_id, "kind": "air_quality", "metric": "pm25",
                                              "value": "987", "unit": "ug/m3", **PROBE})  # fmt: skip

    def judged() -> bool:  # the evaluator has read past the probe's reading and acknowledged it
        mine = next((g for g in client.xinfo_groups(settings.stream_iot) if g["name"] == group), None)
        return mine is not None and mine["last-delivered-id"] >= entry and mine["pending"] == 0

    wait_until(judged, what="the probe's reading judged by the band evaluator")
    clock.offset = 3600  # past the band's hold (five minutes in the shipped file)

    def alert_id() -> int | None:
        with bootstrap.db_connection(settings) as conn:
            row = conn.execute("SELECT id FROM alerts WHERE rule_id = 'band_air_quality_pm25' AND subject = %s"
                               " AND status <> 'resolved'", (device_id,)).fetchone()  # fmt: skip
        return row[0] if row else None

    alert = wait_until(alert_id, what="the band's alert about the probe")
    keys = LiveKeys(settings.consumer_group)

    def in_snapshot() -> bool:
        snapshot = read_snapshot(client, keys)
        return snapshot is not None and any(a["id"] == alert for a in snapshot.doc["alerts"]["items"])

    desktop.goto(served.url + "/map")  # a page view starts the dashboard's snapshot builder, if nothing did yet
    wait_until(in_snapshot, what="the alert in the live snapshot the map reads")
    desktop.reload()
    expect(desktop.locator("#map-sensor-count")).to_contain_text("sensors")
    settle(desktop)
    # Centre the map on the probe at a zoom past clustering, as an officer zooming in would; then click its dot.
    desktop.evaluate("""(p) => window.dash_clientside.set_props('map-map', {viewport: {center: [p.lat, p.lon],
        zoom: 19, transition: 'setView', options: {animate: false}}})""", {"lat": float(PROBE["lat"]),
                                                                           "lon": float(PROBE["lon"])})  # fmt: skip
    box = desktop.locator("#map-map").bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # Found and clicked in one step in the page: the server sends the view's sensors anew after every move (and
    # every refresh), so a dot found in one call may be gone by the next.
    click_probe = """(c) => {
        for (const p of document.querySelectorAll('path.leaflet-interactive[fill-opacity="0.9"]')) {
        const b = p.getBoundingClientRect();
        if (b.left <= c[0] && c[0] <= b.right && b.top <= c[1] && c[1] <= b.bottom) {
            p.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: c[0], clientY: c[1]})); return true; } }
        return false; }"""
    wait_until(lambda: desktop.evaluate(click_probe, list(centre)), timeout=20,
               what="the probe's dot at the map's centre")  # fmt: skip
    expect(desktop.locator("#map-panel-title")).to_have_text(f"Sensor {device_id}")
    status = desktop.locator("#map-sensor-status")
    expect(status.locator(".sensor-reason")).to_have_text("critical: PM2.5 987 ug/m3 ≥ 115 (band air_quality/pm25)")
    link = status.locator(f'a[href="/alerts?alert={alert}"]')
    expect(link).to_contain_text(f"alert #{alert} (critical)")
    assert _violations(desktop) == []  # the panel's words and link pass WCAG 2 A/AA too (axe-core)
    link.click()
    expect(desktop).to_have_url(re.compile(rf"/alerts\?alert={alert}$"))
    assert desktop.console.errors == [], desktop.console.errors
