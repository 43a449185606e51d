"""dash-ag-grid's and dash-leaflet's scripts are left out of the pages that do not render them and fetched once
they are idle; moving from such a page to one that needs them works whether they have arrived or not; the map's
chunks, layout and callbacks are each fetched once (serving/page_scripts.py, assets/ioc_deferred.js)."""

import re

import pytest

pytestmark = pytest.mark.e2e
GRID_SCRIPT = "**/dash_ag_grid/dash_ag_grid*.js"
MAP_SCRIPT = "**/dash_leaflet/dash_leaflet*.js"


def test_the_map_loads_without_the_grid_script_then_fetches_it_for_the_alert_console(desktop, served):
    page_html = desktop.goto(served.url + "/map").text()
    assert 'data-library="dash_ag_grid"' in page_html
    assert re.search(r'<script src="[^"]*/dash_ag_grid/dash_ag_grid[^"]*"></script>', page_html) is None
    desktop.wait_for_selector(".status-cluster")
    desktop.wait_for_function("() => window.dash_ag_grid !== undefined", timeout=60_000)
    desktop.locator("a.nav-link", has_text="Alerts").click()  # inside the app: no page load
    desktop.wait_for_selector(".ag-root-wrapper", timeout=60_000)
    assert desktop.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert desktop.console.errors == []


def test_a_move_to_a_grid_page_before_the_script_has_arrived_is_a_full_page_load(desktop, served):
    desktop.route(GRID_SCRIPT, lambda route: route.abort())  # it never arrives on the map page
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector(".status-cluster")
    desktop.unroute(GRID_SCRIPT)
    assert desktop.evaluate("() => window.dash_ag_grid") is None
    with desktop.expect_navigation():
        desktop.locator("a.nav-link", has_text="Complaints").click()
    desktop.wait_for_selector(".ag-root-wrapper", timeout=60_000)
    assert [e for e in desktop.console.errors if "net::ERR_FAILED" not in e] == []  # the aborted fetches say so


def test_the_alert_console_loads_without_the_map_script_then_fetches_it_for_the_map(desktop, served):
    page_html = desktop.goto(served.url + "/alerts").text()
    assert 'data-library="dash_leaflet"' in page_html
    assert re.search(r'<script src="[^"]*/dash_leaflet/dash_leaflet[^"]*"></script>', page_html) is None
    desktop.wait_for_selector(".ag-root-wrapper", timeout=60_000)
    desktop.wait_for_function("() => window.dash_leaflet !== undefined", timeout=60_000)
    desktop.locator("a.nav-link", has_text="Map").click()  # inside the app: no page load
    desktop.wait_for_selector(".status-cluster", timeout=60_000)
    assert desktop.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert desktop.console.errors == []


def test_a_move_to_the_map_before_its_script_has_arrived_is_a_full_page_load(desktop, served):
    desktop.route(MAP_SCRIPT, lambda route: route.abort())  # it never arrives on the history page
    desktop.goto(served.url + "/history")
    desktop.wait_for_selector(".js-plotly-plot", timeout=60_000)
    desktop.unroute(MAP_SCRIPT)
    assert desktop.evaluate("() => window.dash_leaflet") is None
    with desktop.expect_navigation():
        desktop.locator("a.nav-link", has_text="Map").click()
    desktop.wait_for_selector(".status-cluster", timeout=60_000)
    assert [e for e in desktop.console.errors if "net::ERR_FAILED" not in e] == []


def test_the_maps_chunks_layout_and_callbacks_arrive_once_from_its_html(desktop, served):
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector(".status-cluster")
    fetched = desktop.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => /async-|_dash-layout|_dash-dependencies/.test(e.name))
        .map(e => [e.name.split('/').pop(), e.initiatorType])""")
    # the chunks as the page's own scripts (webpack found them installed); the layout and the callbacks fetched
    # once, by the HTML's preload hints ("link"), whose answers the renderer's own requests were handed
    assert sorted(fetched) == [["_dash-dependencies", "link"], ["_dash-layout", "link"],
                               ["async-GeoJSON.js", "script"], ["async-dropdown.js", "script"]]  # fmt: skip
    assert desktop.console.errors == []
