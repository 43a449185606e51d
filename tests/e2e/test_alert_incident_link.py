"""From an alert to its incident in a real browser: the console's grid names the incident an open alert belongs to,
the alert's details link to it, and following the link opens the incident's timeline with that alert on it. The
incident's title (an alert's summary, from outside) is shown as text on both pages."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

import bootstrap
from alerts.evaluate import Condition
from incidents.grouping import GroupingRules, Place
from tests.e2e.conftest import _page, settle

pytestmark = pytest.mark.e2e
RULE = "band_water_level_level_m"  # a critical band of the shipped rules: it opens an incident where none is near
HOSTILE = "<img src=x onerror=alert(1)> gauge"
# Far from the other tests' incidents (Futian): this alert opens an incident of its own rather than joining one.
PINGSHAN = Place("pingshan", 22.6905, 114.3466)


@pytest.fixture(scope="module")
def member(e2e_settings, served) -> dict:
    """An open critical alert that opened an incident, made by the real alert store and incident recorder."""
    device = f"wl-link-{time.time_ns() // 1000 * 2 + 1}"
    now = datetime.now(UTC).replace(microsecond=0)
    with bootstrap.db_connection(e2e_settings) as conn:
        store = bootstrap.alert_store(e2e_settings, conn, GroupingRules())
        store.apply([Condition(RULE, device, True, 3.1, 2.8, "critical", f"{HOSTILE} {device} reads 3.1 m", {}, now)],
                    (), {device: PINGSHAN})  # fmt: skip
        alert_id = conn.execute("SELECT id FROM alerts WHERE subject = %s", (device,)).fetchone()[0]
        incident_id = conn.execute("SELECT incident_id FROM incident_members WHERE kind = 'alert' AND member_key = %s",
                                   (str(alert_id),)).fetchone()[0]  # fmt: skip
    return {"device": device, "alert": alert_id, "incident": incident_id}


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_an_officer_follows_an_alert_to_its_incident_timeline(browser, served, accounts, member, role):
    context, page = _page(browser, 1440, 900, (served.url, accounts[role]))
    try:
        page.goto(f"{served.url}/alerts")
        row = page.locator(".ag-row", has_text=member["device"]).first
        expect(row.locator('[col-id="incident"]')).to_have_text(f"#{member['incident']} {HOSTILE} {member['device']}"
                                                                " reads 3.1 m")  # fmt: skip
        row.locator('[col-id="subject"]').click()
        link = page.locator("#alerts-detail a.alerts-incident-link")
        expect(link).to_have_text(f"#{member['incident']} {HOSTILE} {member['device']} reads 3.1 m")
        expect(page.locator("#alerts-detail")).to_contain_text("(open)")
        assert page.locator("#alerts-detail img, .ag-row img").count() == 0  # the title went in as text
        settle(page)
        link.click()
        expect(page).to_have_url(f"{served.url}/incidents?incident={member['incident']}")
        timeline = page.locator("#incidents-timeline")
        expect(timeline.locator("> li .incident-kind")).to_have_text(["incident opened", "alert fired"])
        expect(timeline.locator("> li .incident-text").nth(1)).to_contain_text(f"alert #{member['alert']}")
        expect(page.locator(".incidents-detail-title")).to_have_text(
            f"#{member['incident']} {HOSTILE} {member['device']} reads 3.1 m"
        )
        # Acting on the incident is the incidents page's own check: a viewer follows the link and only reads.
        may_act = page.get_by_role("button", name="Take ownership")
        expect(may_act).to_have_count(1 if role == "operator" else 0)
        assert page.locator("img[src=x]").count() == 0
        assert page.console.errors == [], page.console.errors
    finally:
        context.close()
