"""The alert console in a real browser with more open alerts than one page: the officer sees where they are and
turns pages; the counts above the grid cover every open alert, not the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

import bootstrap
from alerts.evaluate import Condition
from alerts.store import AlertStore

RULE = "paging_probe"
MANY = 250


def test_open_alerts_are_paged_and_the_page_says_which_of_how_many(desktop, served, e2e_settings):
    conn = bootstrap.db_connection(e2e_settings)
    store = AlertStore(conn, [], e2e_settings.dashboard_url)

    def probes(firing: bool) -> list[Condition]:
        now = datetime.now(UTC)
        return [Condition(RULE, f"probe-{i:03d}", firing, 1.0, None, "info", f"probe {i}", {}, now)
                for i in range(MANY)]  # fmt: skip

    store.apply(probes(True))
    try:
        page = desktop
        page.goto(served.url + "/alerts")
        text = page.locator("#alerts-page-text")
        expect(text).to_contain_text(re.compile(r"Showing 1–100 of [\d,]+ open alerts"))
        expect(page.locator("#alerts-page-prev")).to_be_disabled()
        expect(page.locator(".alerts-counts")).to_contain_text(re.compile(r"info\s+2\d\d"))  # all, not the page
        page.locator("#alerts-page-next").click()
        expect(text).to_contain_text("Showing 101–200 of")
        expect(page.locator("#alerts-page-prev")).to_be_enabled()
        page.locator("#alerts-page-prev").click()
        expect(text).to_contain_text("Showing 1–100 of")
    finally:
        store.apply(probes(False))  # resolved (the audit trail is append-only), so other tests see none open
        conn.close()
