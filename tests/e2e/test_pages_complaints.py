"""The quick-response page in a real browser: figures draw and the grid lists open requests, oldest first."""

import pytest

from tests.e2e.city_seed import seeded_city

pytestmark = pytest.mark.e2e


def test_complaints_page_shows_figures_and_the_open_queue(desktop, served, e2e_settings):
    city = seeded_city(e2e_settings)
    desktop.goto(served.url + "/complaints")
    desktop.wait_for_selector("#complaints-queue .ag-row")
    for figure in ("volume", "districts", "sla", "satisfaction"):
        desktop.wait_for_selector(f"#complaints-{figure} .main-svg")
    desktop.wait_for_selector(f"#complaints-queue .ag-cell >> text={city.open_requests[0]}")
    ages = [float(a) for a in desktop.locator("#complaints-queue .ag-row [col-id=age_h]").all_inner_texts() if a]
    assert ages and ages == sorted(ages, reverse=True)  # oldest first
    assert desktop.console.errors == []
