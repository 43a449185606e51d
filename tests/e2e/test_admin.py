"""The admin's pages in a real browser: sign in, add an operator with a generated password, issue a wall display
token, and find both in the audit trail; a viewer opening the admin page is turned away."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import _page, screenshot, settle


@pytest.fixture
def admin(browser, served, accounts):
    context, page = _page(browser, 1440, 900, (served.url, accounts["admin"]))
    yield page
    context.close()


def test_the_sign_in_page_turns_a_wrong_password_away(signed_out, served, accounts):
    signed_out.goto(served.url + "/")
    expect(signed_out).to_have_url(served.url + "/login?next=/")
    screenshot(signed_out, "desktop-login")
    signed_out.locator("#username").fill(accounts["viewer"].username)
    signed_out.locator("#password").fill("not the password")
    signed_out.locator("button[type=submit]").click()
    expect(signed_out.locator(".login-message")).to_contain_text("Wrong user name or password")
    expect(signed_out.locator("#username")).to_have_value(accounts["viewer"].username)


def test_an_admin_adds_an_operator_issues_a_display_token_and_reads_the_audit_trail(admin, served):
    name, wall = f"duty.{time.time_ns()}", f"wall-{time.time_ns()}"
    admin.goto(served.url + "/admin")
    expect(admin.locator(".admin-users")).to_be_visible()
    admin.locator("#admin-new-username").fill(name)
    admin.locator("#admin-new-full-name").fill("Duty Officer")
    admin.locator("#admin-new-role").click()
    admin.get_by_role("option", name="operator", exact=True).click()
    admin.locator("#admin-add-user").click()
    message = admin.locator("#admin-user-message")
    expect(message).to_contain_text(f"Password for {name}")
    assert len(message.locator(".issued-secret").inner_text()) >= 16
    expect(admin.locator(".admin-users tr", has_text=name)).to_contain_text("operator")

    admin.locator("#admin-display-name").fill(wall)
    admin.locator("#admin-issue-display").click()
    link = admin.locator("#admin-display-message .issued-secret")
    expect(link).to_contain_text("/wall?token=iocd_")
    row = admin.locator(".admin-displays tr", has_text=wall)
    expect(row).to_contain_text("valid")
    settle(admin)
    admin.evaluate("window.scrollTo(0, 0)")
    screenshot(admin, "desktop-admin")
    row.locator("button", has_text="Revoke").click()
    expect(admin.locator("#admin-display-message")).to_contain_text(f"Revoked {wall}")
    expect(row).to_contain_text("revoked by")

    admin.goto(served.url + "/audit")
    entries = admin.locator(".audit-entries")
    expect(entries).to_contain_text("user.add")
    expect(entries.locator("tr", has_text=f"user:{name}")).to_contain_text("127.0.0.1")
    expect(entries).to_contain_text("display.revoke")
    settle(admin)
    screenshot(admin, "desktop-audit")
    assert admin.console.errors == [], admin.console.errors


def test_a_viewer_is_turned_away_from_the_admin_pages(desktop, served):
    desktop.goto(served.url + "/admin")
    expect(desktop.locator(".not-allowed")).to_contain_text("may not open this page")
    expect(desktop.locator(".shell-header nav")).not_to_contain_text("Admin")
    expect(desktop.locator(".admin-users")).to_have_count(0)
