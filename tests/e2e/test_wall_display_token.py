"""A wall screen with no keyboard, in a real browser: its display token is exchanged for a session and leaves the
address bar at once, the wall shows the token's playlist, and revoking the token stops the wall with a message
readable from across the room."""

from __future__ import annotations

import time

from playwright.sync_api import expect

import bootstrap
from auth.principal import cli_principal
from tests.e2e.conftest import _page, screenshot


def test_a_wall_opens_with_its_display_token_and_a_revoked_token_stops_it(browser, served, e2e_settings):
    commands = bootstrap.access_commands(e2e_settings, lambda: bootstrap.db_connection(e2e_settings))
    name = f"lobby-{time.time_ns()}"
    issued = commands.issue_display(cli_principal("tests"), name, ["alerts", "energy"], 5)
    context, page = _page(browser, 1920, 1080)  # nobody signed in: the token is all the screen has
    try:
        page.goto(f"{served.url}/wall?token={issued.secret}&playlist=overview")
        expect(page).to_have_url(f"{served.url}/wall")  # the token (and the rest of the query) is gone
        expect(page.locator("#wall-title")).to_have_text("Alerts")  # the token's playlist, not the address bar's
        expect(page.locator("#wall-title")).to_have_text("Data centres and energy", timeout=15_000)
        assert issued.secret not in page.evaluate("window.location.href + document.referrer")

        commands.revoke_display(cli_principal("tests"), name)
        overlay = page.locator(".session-overlay")
        expect(overlay).to_contain_text("Display switched off", timeout=int(e2e_settings.display_recheck_s + 20) * 1000)
        expect(overlay).to_contain_text("revoked")
        screenshot(page, "wall-revoked")
        page.goto(f"{served.url}/wall?token={issued.secret}")
        expect(page.locator(".login-message")).to_contain_text("not valid")
    finally:
        context.close()
