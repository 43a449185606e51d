"""The city map in a real browser: clustered sensors, district outlines, a sensor's history on click."""

import pytest

from tests.e2e.city_seed import seeded_city

pytestmark = pytest.mark.e2e


def test_map_shows_clusters_and_outlines_and_opens_a_sensor_history(desktop, served, e2e_settings):
    seeded_city(e2e_settings)
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector(".marker-cluster")
    assert desktop.locator(".marker-cluster").count() > 0
    assert desktop.locator(".leaflet-overlay-pane path").count() >= 9  # district outlines (and density fill)
    desktop.wait_for_selector("#map-sensor-count >> text=/sensors/")
    assert desktop.locator(".leaflet-tile").count() == 0  # no basemap unless IOC_MAP_TILE_URL is set
    sensor = desktop.locator('path.leaflet-interactive[fill-opacity="0.9"]')  # a sensor's circle
    for _ in range(12):  # each cluster click zooms in, until single sensors show
        if sensor.count():
            break
        desktop.locator(".leaflet-marker-pane .marker-cluster").first.dispatch_event("click")
        desktop.wait_for_timeout(500)
    sensor.first.dispatch_event("click")
    desktop.wait_for_selector("#map-panel-title >> text=/^Sensor /")
    desktop.wait_for_selector("#map-history .main-svg")
    desktop.wait_for_selector("#map-density-table >> text=/open requests/")
    assert desktop.console.errors == []


def test_map_filters_by_kind(desktop, served, e2e_settings):
    seeded_city(e2e_settings)
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector("#map-sensor-count >> text=/sensors/")
    before = desktop.locator("#map-sensor-count").inner_text()
    desktop.locator("#map-filter-kind").click()
    desktop.locator(".Select-option, [role=option]").filter(has_text="noise").first.click()
    desktop.wait_for_function("(b) => document.querySelector('#map-sensor-count').innerText !== b", arg=before)
    assert desktop.console.errors == []
