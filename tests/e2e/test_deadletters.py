"""The pipeline page's dead letters in a real browser: an admin filters by code, inspects a letter whose reason
carries markup (shown as text, never run), replays it, and the replay is judged again by the running ingest and
recorded in the audit trail; a viewer sees the inspector but no Replay button."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

import bootstrap
from tests.e2e.conftest import _page, settle
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.e2e
DISTRICT = "<img src=x onerror=window.__pwned=1>"


@pytest.fixture
def admin(browser, served, accounts):
    context, page = _page(browser, 1440, 900, (served.url, accounts["admin"]))
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


@pytest.fixture
def refused_entry(e2e_settings):
    """A reading naming a district that does not exist, dead-lettered by the session's ingest: its letter's id."""
    client = bootstrap.redis_client(e2e_settings)
    device = f"e2e-dlq-{time.time_ns()}"
    entry = client.xadd(e2e_settings.stream_iot, {"device_id": device, "kind": "air_quality", "metric": "pm25",
                                                  "value": "12", "unit": "ug/m3", "lat": "22.5431", "lon": "114.0596",
                                                  "district": DISTRICT})  # fmt: skip

    def letter():
        return next((i for i, f in client.xrevrange(e2e_settings.stream_deadletter, count=200)
                     if f.get(b"dlq_id") == entry), None)  # fmt: skip

    return client, entry, wait_until(letter, timeout=30, what="the entry dead-lettered").decode()


def test_an_admin_inspects_and_replays_a_letter_and_the_replay_is_audited(admin, served, refused_entry, e2e_settings):
    client, entry, letter_id = refused_entry
    admin.goto(served.url + "/pipeline")
    expect(admin.locator("#pipeline-dlq-codes")).to_contain_text("unknown_district")
    admin.locator("#pipeline-dlq-code").click()
    admin.get_by_role("option", name="unknown_district", exact=True).click()
    admin.locator("#pipeline-dlq-since").fill("1h")
    admin.locator("#pipeline-dlq-since").press("Enter")
    settle(admin)
    admin.locator("#pipeline-dlq-pick").click()
    admin.get_by_role("option", name=letter_id, exact=False).first.click()
    shown = admin.locator("#pipeline-dlq-letter")
    expect(shown).to_contain_text("unknown district")
    expect(shown).to_contain_text(DISTRICT)  # the markup as text
    assert shown.locator("img").count() == 0 and admin.evaluate("window.__pwned === undefined")

    admin.locator("#pipeline-dlq-replay").click()
    expect(admin.locator("#pipeline-dlq-message")).to_contain_text("replayed")
    # Judged again by the running ingest: still unknown, so back with its reason, as the first replay of its entry.
    wait_until(lambda: any(f.get(b"dlq_replay_of") == entry and f.get(b"dlq_replays") == b"1"
                           for _, f in client.xrevrange(e2e_settings.stream_deadletter, count=500)),
               timeout=30, what="the replayed entry back in the dead letter")  # fmt: skip
    assert not client.xrange(e2e_settings.stream_deadletter, letter_id, letter_id)  # the replayed letter went
    with bootstrap.db_connection(e2e_settings) as conn:
        row = conn.execute("SELECT actor, outcome, details->>'code' FROM audit_log WHERE action = 'deadletter.replay'"
                           " ORDER BY id DESC LIMIT 1").fetchone()  # fmt: skip
    assert row == ("ada.admin", "ok", "unknown_district")
    assert admin.dialogs == []


def test_a_viewer_inspects_but_has_no_replay_button(desktop, served, refused_entry):
    desktop.goto(served.url + "/pipeline")
    expect(desktop.locator("#pipeline-dlq-codes")).to_contain_text("unknown_district")
    assert desktop.locator("#pipeline-dlq-replay").count() == 0
