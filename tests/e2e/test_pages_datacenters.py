"""The data-centre page in a real browser: PUE per site with the target line, power and inlet charts."""

import pytest

from tests.e2e.city_seed import seeded_city

pytestmark = pytest.mark.e2e


def test_datacenters_page_draws_pue_against_target(desktop, served, e2e_settings):
    city = seeded_city(e2e_settings)
    desktop.goto(served.url + "/datacenters")
    desktop.wait_for_selector("#datacenters-pue .main-svg")
    desktop.wait_for_selector(f"#datacenters-pue .legendtext >> text={city.sites[0]}")
    desktop.wait_for_selector("#datacenters-pue .annotation-text >> text=/target 1.3/")
    desktop.wait_for_selector(f"#datacenters-summary >> text={city.sites[1]}")
    for figure in ("power", "inlet"):
        desktop.wait_for_selector(f"#datacenters-{figure} .main-svg")
    assert desktop.console.errors == []
