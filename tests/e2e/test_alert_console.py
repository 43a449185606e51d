"""The alert console in a real browser: an alert fired through the real path (a rule-breaking reading on the
stream, an evaluator thread), an officer acknowledges and resolves it, and a real local webhook receiver gets
both changes, signed per Standard Webhooks; the alert also shows on the overview while it is open."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook

import bootstrap
from alerts import console
from settings import Settings
from tests.e2e.conftest import Served, free_port, screenshot, settle
from tests.integration.alerting import SECRET, Receiver, with_receivers, write_rules
from tests.integration.conftest import wait_until

RULES = """
[[rule]]
id = "e2e_pm25_device"
type = "threshold"
severity = "critical"
summary = "PM2.5 at {subject} reads {value:.0f} µg/m³ (limit {threshold:.0f})"
labels = { team = "environment" }
match = { kind = "air_quality" }
metric = "pm25"
subject = "device"
reduce = "last"
threshold = 900
keep_firing_for = "1h"
"""
FUTIAN = {"lat": "22.543100", "lon": "114.059600"}
OFFICER = "Officer Chen Jing"


class Alerting:
    """A second dashboard whose alert store notifies the receiver, an evaluator and a sender (threads)."""

    def __init__(self, settings: Settings, receiver: Receiver, server: Served) -> None:
        self.settings, self.receiver, self.server = settings, receiver, server

    def types(self) -> list[str]:
        return [d.json["type"] for d in self.receiver.deliveries]


@pytest.fixture(scope="module")
def alerting(e2e_settings: Settings, served, tmp_path_factory) -> Iterator[Alerting]:
    tmp = tmp_path_factory.mktemp("alerting")
    receiver = Receiver().start()
    settings = with_receivers(e2e_settings, receiver, alert_rules_file=write_rules(tmp / "rules.toml", RULES),
                              alert_consumer_group=f"{e2e_settings.consumer_group}-alerts", http_port=free_port(),
                              alert_tick_s=0.2)  # fmt: skip
    secrets = json.dumps([{**r.model_dump(), "secret": r.secret.get_secret_value()} for r in settings.alert_receivers])
    server = Served(settings, tmp / "gunicorn.log", workers=1, env={"IOC_ALERT_RECEIVERS": secrets})
    stop = threading.Event()
    evaluator, sender = bootstrap.alert_evaluator(settings), bootstrap.alert_sender(settings)
    threads = [threading.Thread(target=w.run, args=(stop.is_set,), daemon=True) for w in (evaluator, sender)]
    for thread in threads:
        thread.start()
    server.start()
    try:
        yield Alerting(settings, receiver, server)
    finally:
        server.stop()
        stop.set()
        for thread in threads:
            thread.join(10)
        receiver.stop()


def fire(alerting: Alerting, device_id: str) -> dict:
    """A reading far over the rule's limit, XADDed once the evaluator reads the stream; the alert it fires."""
    settings = alerting.settings
    client = bootstrap.redis_client(settings)
    group = settings.alert_consumer_group.encode()
    wait_until(lambda: any(g["name"] == group for g in client.xinfo_groups(settings.stream_iot)),
               what="the evaluator's consumer group")  # fmt: skip
    client.xadd(settings.stream_iot, {"device_id": device_id, "kind": "air_quality", "metric": "pm25",
                                      "value": "987", "unit": "ug/m3", **FUTIAN})  # fmt: skip

    def fired() -> dict | None:
        with bootstrap.db_connection(settings) as conn:
            return next((a for a in console.open_alerts(conn) if a["subject"] == device_id), None)

    return wait_until(fired, timeout=20, what=f"an alert about {device_id}")


def test_an_officer_acknowledges_then_resolves_and_receivers_hear_both(desktop, served, alerting):
    device_id = f"aq-alert-{time.time_ns()}"
    desktop.goto(served.url + "/map")  # open before the alert fires: the marker must arrive on its own
    expect(desktop.locator("#map-sensor-count")).to_contain_text("sensors")
    alert = fire(alerting, device_id)
    wait_until(lambda: "alert.firing" in alerting.types(), what="the firing webhook")
    # A device alert is a marker at the device (SVG here: no preferCanvas), well before the sensors' 30 s refresh.
    expect(desktop.locator("path.alert-marker.alert-critical").first).to_be_attached(timeout=10_000)

    desktop.goto(served.url + "/")  # the overview shows it from the live snapshot
    expect(desktop.locator('[id*="live-alerts"]')).to_contain_text(device_id, timeout=10_000)
    expect(desktop.locator('[id*="\\"alerts_open\\""]')).to_contain_text("critical")

    desktop.goto(alerting.server.url + "/alerts")
    row = desktop.locator(".ag-row", has_text=device_id).first
    expect(row).to_be_visible()
    expect(desktop.locator("#alerts-rules")).to_contain_text(alert["rule_id"])  # the rules in force are listed
    row.locator('[col-id="subject"]').click()
    detail = desktop.locator("#alerts-detail")
    expect(detail).to_contain_text(f"#{alert['id']}")
    acknowledge = desktop.locator("button", has_text="Acknowledge")
    message = desktop.locator("#alerts-message")
    desktop.evaluate("localStorage.clear()")
    acknowledge.click()
    expect(message).to_contain_text("Type your name")  # no officer known: refused, nothing changed

    desktop.locator("#alerts-officer-input").fill(OFFICER)
    desktop.locator("#alerts-officer-save").click()
    expect(desktop.locator("#alerts-officer-shown")).to_have_text(f"Acting as {OFFICER}.")
    acknowledge.click()
    expect(message).to_contain_text("is acknowledged")
    history = desktop.locator(".alerts-history")
    expect(history).to_contain_text("acknowledged")
    settle(desktop)
    desktop.evaluate("window.scrollTo(0, 0)")
    screenshot(desktop, "desktop-alerts")

    desktop.locator("button", has_text="Resolve").click()
    expect(message).to_contain_text("is resolved")
    expect(history.locator("tr", has_text="resolved")).to_contain_text(OFFICER)
    when = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
    for action in ("acknowledged", "resolved"):
        cells = history.locator("tr", has_text=action).first.locator("td")
        expect(cells.nth(0)).to_have_text(when)
        expect(cells.nth(1)).to_have_text(OFFICER)

    wait_until(lambda: {"alert.acknowledged", "alert.resolved"} <= set(alerting.types()), timeout=20,
               what="the acknowledged and resolved webhooks")  # fmt: skip
    mine = [d for d in alerting.receiver.deliveries if d.json["data"]["alert"]["id"] == alert["id"]]
    by_type = {d.json["type"]: Webhook(SECRET).verify(d.body, d.headers) for d in mine}  # raises unless signed
    assert by_type["alert.acknowledged"]["data"]["change"]["actor"] == OFFICER
    assert by_type["alert.resolved"]["data"]["alert"]["status"] == "resolved"
    assert by_type["alert.resolved"]["data"]["alert"]["resolved_by"] == OFFICER
    assert desktop.console.errors == [], desktop.console.errors


def test_an_officer_creates_and_expires_a_silence(desktop, alerting):
    desktop.goto(alerting.server.url + "/alerts")
    desktop.evaluate(f"localStorage.setItem('alerts-officer', JSON.stringify({json.dumps(OFFICER)}))")
    desktop.reload()
    expect(desktop.locator("#alerts-officer-shown")).to_have_text(f"Acting as {OFFICER}.")
    subject = f"wl-{time.time_ns()}"
    desktop.locator("#alerts-silence-matchers").fill(f"team=water, subject={subject}")
    desktop.locator("#alerts-silence-comment").fill("gauge maintenance")
    desktop.locator("#alerts-silence-create").click()
    message = desktop.locator("#alerts-silence-message")
    expect(message).to_contain_text("created")
    row = desktop.locator(".alerts-silences tr", has_text=subject)
    expect(row).to_contain_text(OFFICER)
    row.locator("button", has_text="Expire").click()
    expect(message).to_contain_text("expired")
    expect(row).to_have_count(0)
    assert desktop.console.errors == [], desktop.console.errors
