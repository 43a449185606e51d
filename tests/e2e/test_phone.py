"""A duty officer on a phone (390×844, touch): the overview, the alert console and the map fit the screen, and
an alert fired through the real path is acknowledged and resolved by tapping."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ConsoleWatch, Traffic, fire, screenshot, settle

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def phone(browser, served, accounts) -> Iterator:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)  # fmt: skip
    account = accounts["operator"]
    reply = context.request.post(served.url + "/login", max_redirects=0,
                                 form={"username": account.username, "password": account.password})  # fmt: skip
    assert reply.status == 303
    page = context.new_page()
    page.console = ConsoleWatch(page)
    page.traffic = Traffic(page)
    yield page
    context.close()


def test_the_overview_and_the_map_fit_a_phone(phone, served):
    phone.goto(served.url + "/")
    expect(phone.locator(".kpi-grid").first).to_be_visible()
    settle(phone, timeout=60)
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    screenshot(phone, "phone-overview")
    phone.goto(served.url + "/map")
    expect(phone.locator("#map-sensor-count")).to_contain_text("sensors")
    expect(phone.locator(".status-cluster").first).to_be_visible()
    box = phone.locator("#map-map").bounding_box()
    assert box["width"] >= WIDTH - 40 and box["height"] >= HEIGHT / 2  # most of the screen is map
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    phone.locator("#map-map").scroll_into_view_if_needed()
    screenshot(phone, "phone-map")
    assert phone.console.errors == [], phone.console.errors


def test_an_officer_acknowledges_and_resolves_an_alert_by_tapping(phone, served, alerting):
    alert = fire(alerting, f"aq-phone-{time.time_ns()}")
    phone.goto(alerting.server.url + "/alerts")
    row = phone.locator(".ag-row", has_text=alert["subject"]).first
    expect(row).to_be_visible()
    assert phone.evaluate(NO_SIDEWAYS_SCROLL)
    row.locator('[col-id="severity"]').tap()
    expect(phone.locator("#alerts-detail")).to_contain_text(f"#{alert['id']}")
    message = phone.locator("#alerts-message")
    acknowledge = phone.locator("button", has_text="Acknowledge")
    acknowledge.scroll_into_view_if_needed()
    assert acknowledge.bounding_box()["height"] >= 40  # a finger-sized target
    acknowledge.tap()
    expect(message).to_contain_text("is acknowledged")
    settle(phone, timeout=60)
    screenshot(phone, "phone-alerts")
    phone.locator("button", has_text="Resolve").tap()
    expect(message).to_contain_text("is resolved")
    assert phone.console.errors == [], phone.console.errors
