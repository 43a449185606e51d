"""The page the browser opened comes with the first layout, not from Dash's routing callback; moving between
pages inside the app still goes through the router (serving/first_page.py)."""

import json

import pytest

pytestmark = pytest.mark.e2e


def _routed(page) -> list[str]:
    """The callback requests of ``page`` that asked the router for a page, as they are sent."""
    asked: list[str] = []

    def watch(request) -> None:
        if "/_dash-update-component" in request.url and "_pages_content" in json.loads(request.post_data)["output"]:
            asked.append(request.url)

    page.on("request", watch)
    return asked


def test_the_opened_page_is_in_the_first_layout_and_moves_inside_the_app_are_routed(desktop, served):
    routed = _routed(desktop)
    desktop.goto(served.url + "/map")
    desktop.wait_for_selector(".status-cluster")
    assert routed == []
    desktop.wait_for_function("() => document.title === 'IOC · City map'")
    desktop.locator("a.nav-link", has_text="History").click()  # inside the app: the router builds the page
    desktop.wait_for_selector("#history-metric", timeout=30_000)
    assert len(routed) == 1
    desktop.go_back()
    desktop.wait_for_selector(".status-cluster")
    assert len(routed) == 2
    assert desktop.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert desktop.console.errors == []


def test_a_page_the_role_may_not_open_is_refused_in_the_first_layout_too(desktop, served):
    routed = _routed(desktop)
    desktop.goto(served.url + "/admin")  # a viewer
    desktop.wait_for_selector(".not-allowed")
    assert routed == []
    assert desktop.locator("#admin-users").count() == 0
