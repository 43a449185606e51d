"""Incidents in a real browser: an incident's timeline in time order (a reading, its alert, complaints, officers'
actions), an operator takes ownership, a viewer only reads; complaint text is shown as text."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

import bootstrap
from alerts.evaluate import Condition
from incidents.grouping import GroupingRules, Place
from streams.complaints import ComplaintEvent
from tests.e2e.conftest import _page, screenshot, settle
from tests.e2e.test_accessibility import AXE, _violations
from tests.integration.conftest import wait_until
from tests.integration.events import FUTIAN, reading

pytestmark = pytest.mark.e2e
RULE = "band_water_level_level_m"  # a band of the shipped rules file: per device, metric level_m
HOSTILE = "<img src=x onerror=alert(1)> water up to the knee"


def _complaint(request_id: str, at: datetime, description: str | None) -> ComplaintEvent:
    return ComplaintEvent(at, request_id, "open", "waterlogging", "futian", float(FUTIAN[0]), float(FUTIAN[1]),
                          "hotline", description, None, None, f"{int(at.timestamp() * 1000)}-0")  # fmt: skip


def _condition(device: str, firing: bool, value: float, at: datetime) -> Condition:
    return Condition(RULE, device, firing, value, 2.8, "critical", f"Gauge {device} reads {value} m", {}, at)


@pytest.fixture(scope="module")
def incident(e2e_settings, served) -> dict:
    """An incident made by the real alert store and recorder: a gauge alert with a peak reading in the raw table
    (ingested through the stream), two flood complaints, then the alert resolved (monitoring)."""
    device = f"wl-e2e-{time.time_ns() // 1000 * 2 + 1}"  # odd: in Futian
    now = datetime.now(UTC).replace(microsecond=0)
    client = bootstrap.redis_client(e2e_settings)
    peak_at = now - timedelta(minutes=9)
    client.xadd(e2e_settings.stream_iot, reading(device, 3.6, ts=int(peak_at.timestamp() * 1000), kind="water_level",
                                                 metric="level_m", unit="m"))  # fmt: skip
    with bootstrap.db_connection(e2e_settings) as conn:
        wait_until(lambda: conn.execute("SELECT 1 FROM sensor_readings WHERE device_id = %s", (device,)).fetchone(),
                   what="the gauge's reading ingested")  # fmt: skip
        store = bootstrap.alert_store(e2e_settings, conn, GroupingRules())
        places = {device: Place("futian", float(FUTIAN[0]), float(FUTIAN[1]))}
        store.apply([_condition(device, True, 3.1, now - timedelta(minutes=10))], (), places)
        store.apply([], [_complaint(f"req-{device}-a", now - timedelta(minutes=8), HOSTILE),
                         _complaint(f"req-{device}-b", now - timedelta(minutes=5), None)])
        store.apply([_condition(device, False, 1.2, now - timedelta(minutes=2))])
        row = conn.execute("SELECT id, title FROM incidents WHERE title LIKE %s", (f"%{device}%",)).fetchone()
    return {"id": row[0], "title": row[1], "device": device}


EXPECTED = ["incident opened", "alert fired", "peak reading", "complaint filed", "complaint filed", "alert resolved",
            "state changed"]  # fmt: skip


def test_an_operator_opens_an_incident_timeline_sees_it_in_order_and_takes_ownership(
    browser, served, accounts, incident
):
    context, page = _page(browser, 1440, 900, (served.url, accounts["operator"]))
    try:
        page.goto(f"{served.url}/incidents")
        page.locator("a.incident-link", has_text=f"#{incident['id']}").click()
        expect(page).to_have_url(f"{served.url}/incidents?incident={incident['id']}")
        entries = page.locator("#incidents-timeline > li .incident-kind")
        expect(entries).to_have_text(EXPECTED)
        texts = page.locator("#incidents-timeline > li .incident-text")
        expect(texts.nth(2)).to_contain_text(f"{incident['device']}: water level peaked at 3.6 m")
        expect(texts.nth(3)).to_contain_text(HOSTILE)  # shown as text: no <img> was made of it
        assert page.locator("#incidents-timeline img").count() == 0
        times = page.locator("#incidents-timeline > li time").evaluate_all("els => els.map(e => e.dateTime)")
        assert times == sorted(times, key=datetime.fromisoformat)
        settle(page)
        page.get_by_role("button", name="Take ownership").click()
        expect(page.locator("#incidents-message")).to_have_text(f"You own incident #{incident['id']}.")
        expect(entries).to_have_text([*EXPECTED, "took ownership"])
        expect(page.locator(".alerts-facts dd").nth(1)).to_have_text(accounts["operator"].username)
        screenshot(page, "desktop-incidents")
        if AXE.exists():
            assert _violations(page) == []  # axe-core, WCAG 2 A and AA, on the timeline with its actions
        page.get_by_role("button", name="Set monitoring").click()  # it is monitoring already: refused, in words
        expect(page.locator("#incidents-message")).to_contain_text("Refused: a monitoring incident cannot be")
        assert page.console.errors == [], page.console.errors
    finally:
        context.close()
    with bootstrap.db_connection(served.settings) as conn:
        audit = conn.execute("SELECT action, outcome FROM audit_log WHERE target = %s ORDER BY id",
                             (f"incident:{incident['id']}",)).fetchall()  # fmt: skip
    assert audit == [("incident.take_ownership", "ok"), ("incident.set_state", "failed")]


def test_a_viewer_reads_the_timeline_but_has_no_actions_nor_complaint_text(desktop, served, incident):
    desktop.goto(f"{served.url}/incidents?incident={incident['id']}")
    expect(desktop.locator("#incidents-timeline > li").first).to_be_visible()
    expect(desktop.locator(".alerts-read-only")).to_be_visible()
    assert desktop.get_by_role("button", name="Take ownership").count() == 0
    expect(desktop.locator("#incidents-timeline")).not_to_contain_text("water up to the knee")
