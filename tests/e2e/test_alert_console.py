"""The alert console in a real browser: an alert fired through the real path (a rule-breaking reading on the
stream, an evaluator thread), an operator signs in, acknowledges and resolves it, and a real local webhook
receiver gets both changes, signed per Standard Webhooks, with the operator's account as the actor; the alert
also shows on the map and the overview while it is open. A viewer's console has no actions."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

import bootstrap
from tests.e2e.conftest import _page, fire, screenshot, settle
from tests.integration.alerting import SECRET
from tests.integration.conftest import wait_until


@pytest.fixture
def officer(browser, served, accounts):
    """A desktop page signed in as the operator."""
    context, page = _page(browser, 1440, 900, (served.url, accounts["operator"]))
    yield page
    context.close()


def test_an_officer_signs_in_acknowledges_then_resolves_and_receivers_hear_both(signed_out, served, alerting,
                                                                                 accounts):  # fmt: skip
    page, operator = signed_out, accounts["operator"]
    device_id = f"aq-alert-{time.time_ns()}"
    page.goto(served.url + "/map")  # nobody signed in: the sign-in page, then back to the map
    expect(page).to_have_url(re.compile(r"/login\?next=/map$"))
    page.locator("#username").fill(operator.username)
    page.locator("#password").fill(operator.password)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(served.url + "/map")
    expect(page.locator("#shell-user")).to_have_text(operator.username)
    expect(page.locator("#map-sensor-count")).to_contain_text("sensors")  # opened before the alert fires
    alert = fire(alerting, device_id)
    wait_until(lambda: "alert.firing" in alerting.types(), what="the firing webhook")
    # A device alert is a marker at the device (SVG here: no preferCanvas), well before the sensors' 30 s refresh.
    expect(page.locator("path.alert-marker.alert-critical").first).to_be_attached(timeout=10_000)

    page.goto(served.url + "/")  # the overview shows it from the live snapshot
    expect(page.locator('[id*="live-alerts"]')).to_contain_text(device_id, timeout=10_000)
    expect(page.locator('[id*="\\"alerts_open\\""]')).to_contain_text("critical")

    page.goto(alerting.server.url + "/alerts")  # another server of the same IOC: the same session
    row = page.locator(".ag-row", has_text=device_id).first
    expect(row).to_be_visible()
    expect(page.locator("#alerts-rules")).to_contain_text(alert["rule_id"])  # the rules in force are listed
    row.locator('[col-id="subject"]').click()
    expect(page.locator("#alerts-detail")).to_contain_text(f"#{alert['id']}")
    message = page.locator("#alerts-message")
    page.locator("button", has_text="Acknowledge").click()
    expect(message).to_contain_text("is acknowledged")
    history = page.locator(".alerts-history")
    expect(history).to_contain_text("acknowledged")
    settle(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "desktop-alerts")

    page.locator("button", has_text="Resolve").click()
    expect(message).to_contain_text("is resolved")
    expect(history.locator("tr", has_text="resolved")).to_contain_text(operator.username)
    when = re.compile(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d:\d\d")  # CLDR English, in the display zone
    for action in ("acknowledged", "resolved"):
        cells = history.locator("tr", has_text=action).first.locator("td")
        expect(cells.nth(0)).to_have_text(when)
        expect(cells.nth(1)).to_have_text(operator.username)

    wait_until(lambda: {"alert.acknowledged", "alert.resolved"} <= set(alerting.types()), timeout=20,
               what="the acknowledged and resolved webhooks")  # fmt: skip
    mine = [d for d in alerting.receiver.deliveries if d.json["data"]["alert"]["id"] == alert["id"]]
    by_type = {d.json["type"]: Webhook(SECRET).verify(d.body, d.headers) for d in mine}  # raises unless signed
    assert by_type["alert.acknowledged"]["data"]["change"]["actor"] == operator.username
    assert by_type["alert.resolved"]["data"]["alert"]["status"] == "resolved"
    assert by_type["alert.resolved"]["data"]["alert"]["resolved_by"] == operator.username
    with bootstrap.db_connection(alerting.settings) as conn:
        trail = conn.execute("SELECT action, address FROM audit_log WHERE actor = %s AND target = %s ORDER BY id",
                             (operator.username, f"alert:{alert['id']}")).fetchall()  # fmt: skip
    assert trail == [("alert.acknowledge", "127.0.0.1"), ("alert.resolve", "127.0.0.1")]
    assert page.console.errors == [], page.console.errors


def test_a_viewer_sees_the_console_read_only(desktop, alerting):
    desktop.goto(alerting.server.url + "/alerts")
    expect(desktop.locator(".alerts-read-only").first).to_contain_text("may not act on alerts")
    expect(desktop.locator("button", has_text="Acknowledge")).to_have_count(0)
    expect(desktop.locator("#alerts-silence-create")).to_have_count(0)
    assert desktop.console.errors == [], desktop.console.errors


def test_an_officer_creates_and_expires_a_silence(officer, alerting, accounts):
    officer.goto(alerting.server.url + "/alerts")
    subject = f"wl-{time.time_ns()}"
    officer.locator("#alerts-silence-matchers").fill(f"team=water, subject={subject}")
    officer.locator("#alerts-silence-comment").fill("gauge maintenance")
    officer.locator("#alerts-silence-create").click()
    message = officer.locator("#alerts-silence-message")
    expect(message).to_contain_text("created")
    row = officer.locator(".alerts-silences tr", has_text=subject)
    expect(row).to_contain_text(accounts["operator"].username)
    row.locator("button", has_text="Expire").click()
    expect(message).to_contain_text("expired")
    expect(row).to_have_count(0)
    assert officer.console.errors == [], officer.console.errors
