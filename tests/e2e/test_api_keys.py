"""An admin issues an open-data API key in a real browser, a developer reads the API with it, and revoking it on
the admin page stops it; the API's reference page loads under the dashboard's CSP and passes axe."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import _page
from tests.e2e.test_accessibility import AXE, _violations
from tests.integration.conftest import wait_until


@pytest.fixture
def admin(browser, served, accounts):
    context, page = _page(browser, 1440, 900, (served.url, accounts["admin"]))
    yield page
    context.close()


def test_an_admin_issues_a_key_shown_once_and_revokes_it(admin, served):
    name = f"bus-app-{time.time_ns()}"
    admin.goto(served.url + "/admin")
    expect(admin.locator("#admin-api-keys")).to_be_visible()
    admin.locator("#admin-api-key-name").fill(name)
    admin.locator("#admin-api-key-scopes label", has_text="kpis").click()
    admin.locator("#admin-issue-api-key").click()
    secret = admin.locator("#admin-api-key-message .issued-secret")
    expect(secret).to_contain_text("ioca_")
    key = secret.inner_text().strip()
    row = admin.locator(".admin-api-keys tr", has_text=name)
    expect(row).to_contain_text("valid")
    expect(row).not_to_contain_text(key)  # the table never shows the key again

    def status(path: str) -> int:
        return requests.get(served.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=20).status_code

    wait_until(lambda: status("/api/v1/kpis") == 200, timeout=60, what="the API answering with the new key")
    assert status("/api/v1/sensors") == 403  # only the scope it was given
    row.locator("button", has_text="Revoke").click()
    expect(admin.locator("#admin-api-key-message")).to_contain_text(f"Revoked {name}")
    expect(row).to_contain_text("revoked by")
    assert status("/api/v1/kpis") == 401
    assert admin.console.errors == [], admin.console.errors


def test_the_reference_page_needs_no_key_loads_nothing_else_and_passes_axe(signed_out, served):
    signed_out.goto(served.url + "/api/v1/docs")
    expect(signed_out.locator("h1")).to_contain_text("City IOC open data")
    expect(signed_out.locator("#history")).to_contain_text("/api/v1/history")
    if AXE.exists():
        assert _violations(signed_out) == []
    assert signed_out.console.errors == [], signed_out.console.errors  # a CSP violation would be one
