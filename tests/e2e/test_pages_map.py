"""The city map in a real browser: clustered sensors, district outlines, a sensor's history on click."""

import re

import pytest

from tests.e2e.city_seed import seeded_city

pytestmark = pytest.mark.e2e


def test_map_shows_clusters_and_outlines_and_opens_a_sensor_history(desktop, served, e2e_settings):
    seeded_city(e2e_settings)
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector(".status-cluster")
    assert desktop.locator(".status-cluster").count() > 0
    # district outlines (and density fill): a callback's answer, which may come after the clusters the page brings
    desktop.wait_for_function("() => document.querySelectorAll('.leaflet-overlay-pane path').length >= 9")
    desktop.wait_for_selector("#map-sensor-count >> text=/sensors/")
    assert desktop.locator(".leaflet-tile").count() == 0  # no basemap unless IOC_MAP_TILE_URL is set
    sensor = desktop.locator('path.leaflet-interactive[fill-opacity="0.9"]')  # a sensor's circle
    for _ in range(12):  # each cluster click zooms in, until single sensors show
        if sensor.count():
            break
        desktop.locator(".leaflet-marker-pane .leaflet-marker-icon").first.dispatch_event("click")
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


# Clusters and single dots read in one step: the server sends the view's features anew after every move, so two
# reads could see two different views.
SHOWN = """(colours) => ({
    clusters: Array.from(document.querySelectorAll('.leaflet-marker-pane .leaflet-marker-icon')).map(icon => ({
        title: icon.title, status: (icon.querySelector('.status-cluster') || {className: ''}).className})),
    singles: Array.from(document.querySelectorAll('path.leaflet-interactive[fill-opacity="0.9"]'))
        .map(p => colours.indexOf(p.getAttribute('fill')))})"""


def test_at_city_zoom_every_cluster_shows_its_most_urgent_status_and_the_counts_add_up(desktop, served,
                                                                                      e2e_settings):  # fmt: skip
    from layouts.city_map import STATUS_COLOURS, STATUSES

    seeded_city(e2e_settings)
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector("#map-sensor-count >> text=/sensors/")
    desktop.wait_for_selector(".status-cluster")
    line = desktop.locator("#map-sensor-count").inner_text()  # "401 sensors · normal 340 · warning 0 · …"
    expected = {status: int(re.search(rf"{status} ([\d,]+)", line)[1].replace(",", "")) for status in STATUSES}
    assert expected["critical"] > 0
    shown = dict.fromkeys(STATUSES, 0)
    shown_now = desktop.evaluate(SHOWN, [STATUS_COLOURS[s] for s in STATUSES])
    clusters = shown_now["clusters"]
    for cluster in clusters:
        counts = {status: int(n.replace(",", "")) for status, n in re.findall(r"(\w+) ([\d,]+)", cluster["title"])}
        for status, n in counts.items():
            shown[status] += n
        urgent = next(s for s in ("critical", "warning", "stale", "normal") if counts.get(s))
        assert f"status-cluster-{urgent}" in cluster["status"], cluster  # one critical sensor makes it critical
    for code in shown_now["singles"]:
        shown[STATUSES[code]] += 1
    assert shown == expected
    assert any("status-cluster-critical" in c["status"] for c in clusters)
    # The city fills the map's box: the districts' outline spans most of its width or height.
    box = desktop.locator("#map-map").bounding_box()
    outline = desktop.evaluate("""() => { const r = {l: 1e9, t: 1e9, r: -1e9, b: -1e9};
        document.querySelectorAll('.leaflet-overlay-pane path').forEach(p => { const b = p.getBoundingClientRect();
            if (b.width) { r.l = Math.min(r.l, b.left); r.t = Math.min(r.t, b.top); r.r = Math.max(r.r, b.right);
                           r.b = Math.max(r.b, b.bottom); } }); return r; }""")
    assert (outline["r"] - outline["l"]) / box["width"] > 0.85 or (outline["b"] - outline["t"]) / box["height"] > 0.85
    assert desktop.console.errors == []


def _component(tree: object, component_id: str) -> dict | None:
    """The component with ``component_id`` in a Dash layout as JSON."""
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        children = tree.values()
    elif isinstance(tree, list):
        children = tree
    else:
        return None
    return next((found for child in children if (found := _component(child, component_id)) is not None), None)


def test_the_first_clusters_come_with_the_page_itself(desktop, served, e2e_settings):
    from layouts.ids import MAP_LAYER_SENSORS

    seeded_city(e2e_settings)
    # The first layout (the shell with the opened page in it, serving/first_page.py) brings the map with its
    # first clusters.
    with desktop.expect_response(lambda r: "/_dash-layout" in r.url) as page:
        desktop.goto(served.url + "/map")
    layer = _component(page.value.json(), MAP_LAYER_SENSORS)
    features = layer["props"]["data"]["features"]
    assert any(f["properties"].get("cluster") for f in features), "the city's clusters, in the page's own answer"
    desktop.wait_for_selector(".status-cluster")
    assert desktop.console.errors == []
