"""Text from producers is shown as text, everywhere, in a real browser.

Entries whose every free-text field holds markup or script (device id, unit, site, request id, description, extra
fields) go through the real path (streams → ingest → TimescaleDB and the live snapshot; streams → evaluator →
alerts) and trip alerts; then every page that shows them, and the wall, are opened as an operator (who sees the
most). Each payload would set ``window.__pwned`` or open a dialog if it ran: neither happens, and the text shows
as typed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

import bootstrap
from alerts import console
from settings import Settings
from tests.e2e.conftest import E2E_RULES, _page, settle
from tests.integration.alerting import write_rules
from tests.integration.conftest import wait_until
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port

MARK = str(time.time_ns())[-6:]  # makes this run's values unique in a session-wide schema
DEVICE = f'<img src=x onerror="window.__pwned=1">aq-{MARK}'
UNIT = "<img src=x onerror=alert(2)>"  # a unit has at most 32 characters
SITE = f'<img src=x onerror="window.__pwned=3">dc-{MARK}'
REQUEST = f'<img src=x onerror="window.__pwned=4">req-{MARK}'
DESCRIPTION = '<script>window.__pwned=5</script><a href="javascript:window.__pwned=6">see the flood</a>'
EXTRA = '<a href="javascript:window.__pwned=7">details</a>'
FUTIAN = {"lat": "22.543100", "lon": "114.059600"}


class City:
    """A city of its own for this module (so the hostile names never reach the other tests' screenshots):
    a fresh schema and streams, an ingest worker and an alert evaluator (threads), and the app under gunicorn."""

    def __init__(self, settings: Settings, server: Served) -> None:
        self.settings, self.server, self.url = settings, server, server.url


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Iterator[City]:
    tmp = tmp_path_factory.mktemp("hostile")
    rules = write_rules(tmp / "rules.toml", E2E_RULES)
    with isolated(Settings(), ingest_block_ms=50, http_port=free_port(), signin_attempts_per_minute=10_000,
                  alert_rules_file=rules, alert_tick_s=0.2) as settings:  # fmt: skip
        settings = settings.model_copy(update={"alert_consumer_group": f"{settings.consumer_group}-alerts"})
        add_accounts(settings)
        stop = threading.Event()
        workers = [bootstrap.ingest_worker(settings, consumer="hostile-0"), bootstrap.alert_evaluator(settings)]
        threads = [threading.Thread(target=w.run, args=(stop.is_set,), daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        server = Served(settings, tmp / "gunicorn.log", workers=1)
        server.start()
        try:
            yield City(settings, server)
        finally:
            server.stop()
            stop.set()
            for thread in threads:
                thread.join(10)


@pytest.fixture(scope="module")
def hostile(city) -> dict:
    """The hostile entries, ingested, with the alerts they trip."""
    settings = city.settings
    client = bootstrap.redis_client(settings)
    group = settings.alert_consumer_group.encode()
    wait_until(lambda: all(client.exists(s) and any(g["name"] == group for g in client.xinfo_groups(s))
                           for s in settings.streams.values()), what="the evaluator's consumer groups")  # fmt: skip
    now_ms = int(time.time() * 1000)
    client.xadd(settings.stream_iot, {"device_id": DEVICE, "kind": "air_quality", "metric": "pm25", "value": "987",
                                      "unit": UNIT, "note": EXTRA, **FUTIAN})  # fmt: skip
    for i in range(3):
        client.xadd(settings.stream_datacenter, {"site": SITE, "facility_kw": "1000", "it_kw": "100",
                                                 "inlet_temp_c": "24", "ts": str(now_ms + i), "note": EXTRA})
    client.xadd(settings.stream_complaints, {"request_id": REQUEST, "status": "open", "category": "noise",
                                             "channel": "app", "description": DESCRIPTION, "ts": str(now_ms),
                                             "note": EXTRA, "district": "futian", **FUTIAN})  # fmt: skip

    def stored() -> bool:
        with bootstrap.db_connection(settings) as conn:
            sites = conn.execute("SELECT count(*) FROM datacenter_latest WHERE site = %s", (SITE,)).fetchone()[0]
            requests = conn.execute("SELECT count(*) FROM complaints WHERE request_id = %s", (REQUEST,)).fetchone()[0]
            subjects = {a["subject"] for a in console.open_alerts(conn)}
        return sites == 1 and requests == 1 and {DEVICE, SITE} <= subjects

    wait_until(stored, timeout=30, what="the hostile entries stored and both alerts fired")
    return {}


@pytest.fixture
def operator_page(browser, city):
    context, page = _page(browser, 1440, 900, (city.url, ACCOUNTS["operator"]))
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def assert_harmless(page) -> None:
    """No payload ran: no dialog, no flag, no injected element."""
    assert page.dialogs == []
    assert page.evaluate("window.__pwned") is None
    assert page.locator('img[src="x"]').count() == 0


def test_markup_from_producers_is_shown_as_text_on_every_page(operator_page, city, hostile):
    page = operator_page
    page.goto(city.url + "/map")  # the alert rings: their tooltip holds the rule summary with the device id
    expect(page.locator("path.alert-marker").first).to_be_attached(timeout=15_000)
    for marker in page.locator("path.alert-marker").all():  # open every ring's tooltip, as a pointer would
        marker.dispatch_event("mouseover")
    expect(page.locator(".leaflet-tooltip", has_text=DEVICE).first).to_be_attached()
    assert DEVICE in page.locator(".leaflet-tooltip", has_text=DEVICE).first.text_content()
    # A sensor dot's tooltip is built the same way: call the map's own function with a hostile id.
    built = page.evaluate("""(id) => {
        const dot = window.ioc.map.sensorPoint({properties: {id: id, s: 0}}, L.latLng(22.54, 114.06), {});
        const content = dot.getTooltip().getContent();
        return {element: content instanceof HTMLElement, text: content.textContent, html: content.innerHTML};
    }""", DEVICE)  # fmt: skip
    assert built["element"] and built["text"] == DEVICE and "<img" not in built["html"]
    assert_harmless(page)

    page.goto(city.url + "/")  # the overview's latest alerts come from the live snapshot
    expect(page.locator('[id*="live-alerts"]')).to_contain_text(DEVICE, timeout=15_000)
    assert_harmless(page)

    page.goto(city.url + "/alerts")
    row = page.locator(".ag-row", has_text=DEVICE).first
    expect(row).to_be_visible()
    row.locator('[col-id="summary"]').hover()
    row.locator('[col-id="subject"]').click()
    detail = page.locator("#alerts-detail")
    expect(detail).to_contain_text(DEVICE)
    expect(page.locator(".ag-row", has_text=SITE).first).to_be_visible()
    assert_harmless(page)

    page.goto(city.url + "/complaints")  # an operator sees the citizens' descriptions
    queue = page.locator("#complaints-queue")
    expect(queue.locator(".ag-row").first).to_be_visible(timeout=15_000)
    # The queue is oldest first and paged: narrow it to this run's request, as an officer would with the filter.
    page.evaluate("(mark) => dash_ag_grid.getApiAsync('complaints-queue')"
                  ".then(api => api.setGridOption('quickFilterText', mark))", f"req-{MARK}")  # fmt: skip
    expect(queue.locator(".ag-row", has_text=REQUEST).first).to_be_visible(timeout=15_000)
    expect(queue).to_contain_text(DESCRIPTION)
    assert_harmless(page)

    page.goto(city.url + "/datacenters")
    expect(page.locator("#datacenters-summary")).to_contain_text(SITE, timeout=15_000)
    settle(page)
    assert_harmless(page)

    page.goto(city.url + "/wall?playlist=alerts,energy&interval=5")
    expect(page.locator('.wall-view-active [id*="live-alerts"]')).to_contain_text(DEVICE, timeout=15_000)
    expect(page.locator('[id*="live-sites"]')).to_contain_text(SITE, timeout=15_000)
    assert_harmless(page)
    assert page.console.errors == [], page.console.errors
