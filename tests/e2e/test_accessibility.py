"""Every page passes axe-core's WCAG 2 A and AA rules at desktop, wall and phone sizes, in a real Chromium.

axe-core (pinned in package-lock.json, installed by scripts/test.sh) is evaluated in each page as it is served,
with its Content-Security-Policy in force, after the page's callbacks have settled with live data flowing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import _page, settle

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {"desktop": (1440, 900), "wall": (1920, 1080), "phone": (390, 844)}
PAGES = ("/", "/alerts", "/incidents", "/map", "/complaints", "/datacenters", "/history", "/pipeline", "/wall",
         "/admin", "/audit")
RUN_AXE = """async () => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',
                                                                              'wcag21aa']}});
    return result.violations.map(v => ({rule: v.id, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
}"""


def _violations(page) -> list[dict]:
    page.evaluate(AXE.read_text())
    return page.evaluate(RUN_AXE)


@pytest.mark.parametrize("size", SIZES)
def test_every_page_has_no_wcag_a_or_aa_violation(browser, served, accounts, size):
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci)")
    width, height = SIZES[size]
    found = {}
    signed_out_context, login = _page(browser, width, height)
    login.goto(served.url + "/login")
    found["/login"] = _violations(login)
    signed_out_context.close()
    context, page = _page(browser, width, height, (served.url, accounts["admin"]))
    try:
        for path in PAGES:
            page.goto(served.url + path)
            page.wait_for_selector("#_pages_content > *")
            settle(page, timeout=60)
            found[path] = _violations(page)
    finally:
        context.close()
    assert {path: v for path, v in found.items() if v} == {}


def test_a_keyboard_reaches_and_opens_a_dropdown_and_picks_a_range(desktop, served):
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector("#map-sensor-count >> text=/sensors/")
    for _ in range(40):  # Tab through the page until the kind filter has the focus
        desktop.keyboard.press("Tab")
        if desktop.evaluate("() => document.activeElement && document.activeElement.id") == "map-filter-kind":
            break
    else:
        raise AssertionError("Tab never reached the kind filter")
    desktop.keyboard.press("Enter")
    desktop.wait_for_selector("[role=option], .dash-dropdown-option")
    desktop.goto(served.url + "/history")
    desktop.wait_for_selector("#history-range input[value='7d']")
    desktop.locator("#history-range input[value='24h']").focus()
    desktop.keyboard.press("ArrowRight")  # native radios: arrows move the choice
    assert desktop.locator("#history-range input[value='7d']").is_checked()
