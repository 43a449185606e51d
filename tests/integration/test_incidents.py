"""Incidents end to end: a gauge alert and flood complaints → the real evaluator → one incident, its timeline in
order, and incident.opened / incident.closed webhooks at a real local receiver."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

import bootstrap
from alerts.evaluate import Condition
from auth.command import Refused
from auth.principal import Principal
from auth.roles import Role
from incidents import queries
from incidents.commands import IncidentCommands
from incidents.grouping import GroupingRules, Place
from incidents.service import IncidentConsole
from streams.complaints import ComplaintEvent
from tests.integration.alerting import SECRET, Receiver, evaluator_on_clock, with_receivers, write_rules
from tests.integration.conftest import count, wait_until
from tests.integration.events import FUTIAN, NANSHAN, complaint, reading

pytestmark = pytest.mark.integration
RULES = """
[[rule]]
id = "gauge_high"
type = "threshold"
severity = "critical"
summary = "Water level at {subject} reads {value} m"
match = { kind = "water_level" }
metric = "level_m"
subject = "device"
reduce = "last"
threshold = 2.8
keep_firing_for = "0s"

[incidents]
window = "30m"
distance_m = 2000
quiet = "10m"
complaint_categories = ["waterlogging"]
"""


def flood_complaint(request_id: str, ts_ms: int, where: tuple[str, str] = FUTIAN, district: str = "futian",
                    status: str = "open") -> dict[str, str]:  # fmt: skip
    return complaint(request_id, status, ts_ms) | {"category": "waterlogging", "district": district, "lat": where[0],
                                                   "lon": where[1], "description": "<b>water</b> at the door"}


def gauge(value: float, ts_ms: int) -> dict[str, str]:
    return reading("wl-1", value, ts=ts_ms, kind="water_level", metric="level_m", unit="m")  # wl-1 is in Futian


def read_all(rds, settings) -> bool:
    """Every entry of every stream read and acknowledged by the evaluator's group."""
    group = settings.alert_consumer_group.encode()
    for stream in settings.streams.values():
        mine = next(g for g in rds.xinfo_groups(stream) if g["name"] == group)
        if mine["lag"] or mine["pending"]:
            return False
    return True


def test_a_gauge_alert_and_flood_complaints_become_one_incident_with_its_timeline_in_order(
    test_settings, tmp_path, rds, db, receiver: Receiver
):
    settings = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "r.toml", RULES),
                              alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts")
    stop = threading.Event()
    sender = threading.Thread(target=bootstrap.alert_sender(settings).run, args=(stop.is_set,), daemon=True)
    sender.start()
    hour_ago_ms = int(time.time() * 1000) - 3_600_000
    try:
        with evaluator_on_clock(settings) as clock:
            # The evaluator lives an hour ago, so a complaint filed "now" comes an hour after the alert.
            clock.offset = -3600.0
            wait_until(lambda: rds.get(f"{settings.alert_consumer_group}:leader"), what="an elected evaluator")
            rds.xadd(settings.stream_iot, gauge(3.4, hour_ago_ms))
            wait_until(lambda: count(db, "SELECT count(*) FROM incidents") == 1, what="an incident")
            incident_id = count(db, "SELECT id FROM incidents")

            rds.xadd(settings.stream_complaints, flood_complaint("r-1", hour_ago_ms + 60_000))
            rds.xadd(settings.stream_complaints, flood_complaint("r-1", hour_ago_ms + 61_000))  # the same request again
            rds.xadd(settings.stream_complaints, flood_complaint("r-2", hour_ago_ms + 120_000))
            rds.xadd(settings.stream_complaints, flood_complaint("far", hour_ago_ms + 90_000, NANSHAN, "nanshan"))
            rds.xadd(settings.stream_complaints, flood_complaint("later", hour_ago_ms + 3_600_000))
            noise = flood_complaint("noise", hour_ago_ms + 100_000) | {"category": "noise"}  # not a grouped category
            rds.xadd(settings.stream_complaints, noise)
            rds.xadd(settings.stream_complaints, flood_complaint("r-1", hour_ago_ms + 200_000, status="closed"))
            wait_until(lambda: read_all(rds, settings), what="every complaint judged")
            members = db.execute("SELECT kind, member_key FROM incident_members WHERE incident_id = %s ORDER BY 1, 2",
                                 (incident_id,)).fetchall()  # fmt: skip
            assert [m for m in members if m[0] == "complaint"] == [("complaint", "r-1"), ("complaint", "r-2")]
            assert count(db, "SELECT count(*) FROM incident_members WHERE kind = 'complaint'") == 2

            clock.offset = -3600.0 + 400  # the water goes down some minutes after the last complaint
            rds.xadd(settings.stream_iot, gauge(1.0, hour_ago_ms + 300_000))
            wait_until(lambda: count(db, "SELECT count(*) FROM incidents WHERE state = 'monitoring'") == 1,
                       what="monitoring once its alert resolved")  # fmt: skip

            console = IncidentConsole(lambda: bootstrap.db_connection(settings), lambda: {"gauge_high": "level_m"})
            detail = console.detail(incident_id)
            kinds = [(item.kind, item.request_id) for item in detail.items]
            assert kinds == [("opened", None), ("alert_fired", None), ("complaint_opened", "r-1"),
                             ("complaint_opened", "r-2"), ("complaint_closed", "r-1"), ("alert_resolved", None),
                             ("state", None)]  # fmt: skip
            assert [item.at for item in detail.items] == sorted(item.at for item in detail.items)
            assert detail.items[1].details["value"] == 3.4  # the reading that fired
            assert detail.items[2].details["description"] == "<b>water</b> at the door"  # kept as text
            assert detail.items[-1].details == {"from": "open", "to": "monitoring", "reason": "alerts_resolved"}
            assert detail.incident["members"] == 3 and detail.incident["open_alerts"] == 0
            assert detail.incident["district"] == "futian"

            clock.offset = 0.0  # an hour on: quiet for longer than `quiet`
            wait_until(lambda: count(db, "SELECT count(*) FROM incidents WHERE state = 'closed'") == 1,
                       what="closed after the quiet period")  # fmt: skip
        wait_until(lambda: {"incident.opened", "incident.closed"} <= {d.json["type"] for d in receiver.deliveries},
                   what="incident webhooks")  # fmt: skip
    finally:
        stop.set()
        sender.join(10)

    hooks = {d.json["type"]: d for d in receiver.deliveries}
    opened, closed = hooks["incident.opened"], hooks["incident.closed"]
    for delivery in (opened, closed):
        assert Webhook(SECRET).verify(delivery.body, delivery.headers)["data"]["incident"]["id"] == incident_id
    assert opened.json["data"]["incident"]["state"] == "open"
    assert opened.json["data"]["link"].endswith(f"/incidents/{incident_id}")
    assert closed.json["data"]["incident"]["state"] == "closed"
    assert closed.json["data"]["change"]["actor"] == "evaluator"
    assert "Incident #" in opened.json["data"]["text"]
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE incident_id = %s", incident_id) == 2
    assert queries.active(db) == []


def test_a_batch_read_twice_adds_nothing_and_officers_act_as_their_role_allows(test_settings, tmp_path, db):
    """What a new leader re-reads (the same alert condition, the same complaint entries) changes nothing; officers'
    actions are checked against the signed-in role, audited, and a close is announced in the outbox."""
    settings = with_receivers(test_settings, Receiver(port=9), alert_rules_file=write_rules(tmp_path / "r.toml", RULES))
    at = datetime.now(UTC) - timedelta(minutes=5)
    fired = Condition("gauge_high", "wl-1", True, 3.4, 2.8, "critical", "Water level at wl-1 reads 3.4 m", {}, at)
    filed = [ComplaintEvent(at + timedelta(minutes=n), f"r-{n}", "open", "waterlogging", "futian", 22.5431, 114.0596,
                            "app", None, None, None, f"1-{n}") for n in (1, 2)]  # fmt: skip
    places = {"wl-1": Place("futian", 22.5431, 114.0596)}
    with bootstrap.db_connection(settings) as conn:
        store = bootstrap.alert_store(settings, conn, GroupingRules(complaint_categories=frozenset({"waterlogging"})))
        for _ in range(2):  # the second time as a new leader re-reading what the first committed
            store.apply([fired], filed, places)
    assert count(db, "SELECT count(*) FROM incidents") == 1
    assert count(db, "SELECT count(*) FROM incident_members") == 3
    assert count(db, "SELECT count(*) FROM incident_entries") == 4  # opened, alert fired, two complaints
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE event_type = 'incident.opened'") == 1
    incident_id = count(db, "SELECT id FROM incidents")

    def recorder():
        return bootstrap.incident_recorder(settings, None, {"gauge_high": "device"})

    commands = IncidentCommands(lambda: bootstrap.db_connection(settings), recorder, note_max_chars=50)
    viewer, operator = Principal("vi.one", Role.VIEWER), Principal("op.one", Role.OPERATOR)
    with pytest.raises(Refused, match="may not take ownership"):
        commands.perform(viewer, "take_ownership", {"incident_id": incident_id})
    with pytest.raises(Refused, match="at most 50"):
        commands.perform(operator, "note", {"incident_id": incident_id, "note": "x" * 51})
    assert commands.perform(operator, "take_ownership", {"incident_id": incident_id}).incident["owner"] == "op.one"
    closed = commands.perform(operator, "set_state", {"incident_id": incident_id, "state": "closed", "note": "dry"})
    assert closed.incident["state"] == "closed" and closed.incident["closed_at"] is not None
    with pytest.raises(Refused, match="closed incident cannot be set"):
        commands.perform(operator, "set_state", {"incident_id": incident_id, "state": "open"})
    with pytest.raises(Refused, match="no incident"):
        commands.perform(operator, "note", {"incident_id": incident_id + 1, "note": "hello"})
    assert commands.perform(operator, "note", {"incident_id": incident_id, "note": "pumps back"}).incident
    audit = db.execute("SELECT actor, action, outcome FROM audit_log WHERE target = %s ORDER BY id",
                       (f"incident:{incident_id}",)).fetchall()  # fmt: skip
    assert audit == [("vi.one", "incident.take_ownership", "denied"), ("op.one", "incident.note", "failed"),
                     ("op.one", "incident.take_ownership", "ok"), ("op.one", "incident.set_state", "ok"),
                     ("op.one", "incident.set_state", "failed"), ("op.one", "incident.note", "ok")]  # fmt: skip
    closes = db.execute("SELECT body FROM alert_outbox WHERE event_type = 'incident.closed'").fetchall()
    assert len(closes) == 1 and '"actor":"op.one"' in closes[0][0] and '"note":"dry"' in closes[0][0]
    trail = [r[0] for r in db.execute("SELECT kind FROM incident_entries WHERE incident_id = %s ORDER BY at, id",
                                      (incident_id,))]  # fmt: skip
    assert trail[-3:] == ["owner", "state", "note"]
    # a new alert in the same place after the close opens a new incident
    with bootstrap.db_connection(settings) as conn:
        store = bootstrap.alert_store(settings, conn, GroupingRules())
        store.apply([fired._replace(subject="wl-3", at=datetime.now(UTC))], (), {"wl-3": places["wl-1"]})
    assert count(db, "SELECT count(*) FROM incidents WHERE state = 'open'") == 1
