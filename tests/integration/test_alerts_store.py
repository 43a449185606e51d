"""The alert store against real TimescaleDB: dedup, lifecycle with its audit trail, silences, the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import bootstrap
from alerts import console
from alerts.evaluate import Condition
from alerts.state import InvalidTransition
from alerts.store import AlertStore
from tests.integration.conftest import count

pytestmark = pytest.mark.integration


def cond(firing: bool, subject: str = "futian", rule: str = "pm25_high", value: float = 180.0) -> Condition:
    return Condition(rule, subject, firing, value, 150.0, "critical", f"PM2.5 {subject} {value}", {"team": "env"},
                     datetime.now(UTC))  # fmt: skip


@pytest.fixture
def store(test_settings) -> AlertStore:
    conn = bootstrap.db_connection(test_settings)
    yield AlertStore(conn, ["ops", "city"], "https://ioc.example.org/")
    conn.close()


def test_a_repeated_condition_is_one_alert_and_one_notification_per_receiver(store, db):
    assert store.apply([cond(True)]) == 2
    assert store.apply([cond(True, value=190)]) == 0
    assert store.apply([cond(True, value=200), cond(True, subject="nanshan")]) == 2
    assert count(db, "SELECT count(*) FROM alerts") == 2
    assert count(db, "SELECT value FROM alerts WHERE subject = 'futian'") == 200
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE event_type = 'alert.firing'") == 4


def test_clearing_resolves_and_a_later_breach_is_a_new_alert(store, db):
    store.apply([cond(True)])
    assert store.apply([cond(False, value=20)]) == 2
    assert store.apply([cond(False, value=10)]) == 0  # nothing open: nothing to resolve
    store.apply([cond(True)])
    rows = db.execute("SELECT status, resolved_by FROM alerts ORDER BY id").fetchall()
    assert rows == [("resolved", "evaluator"), ("firing", None)]
    first = db.execute("SELECT min(id) FROM alerts").fetchone()[0]
    assert [e["action"] for e in console.alert_events(db, first)] == ["fired", "resolved"]


def test_lifecycle_by_people_is_recorded_with_who_and_when(store, db):
    store.apply([cond(True)])
    alert_id = db.execute("SELECT id FROM alerts").fetchone()[0]
    store.assign(alert_id, "li.wei", "zhang.min")
    store.acknowledge(alert_id, "zhang.min", "crew on the way")
    store.add_note(alert_id, "zhang.min", "construction site dust")
    with pytest.raises(InvalidTransition, match="cannot mark a acknowledged alert acknowledged"):
        store.acknowledge(alert_id, "li.wei")
    store.resolve(alert_id, "zhang.min", "watering started")
    with pytest.raises(InvalidTransition):
        store.resolve(alert_id, "li.wei")
    alert = console.alert(db, alert_id)
    assert (alert["status"], alert["assignee"], alert["acknowledged_by"], alert["resolved_by"]) == (
        "resolved", "zhang.min", "zhang.min", "zhang.min")
    trail = [(e["action"], e["actor"], e["note"]) for e in console.alert_events(db, alert_id)]
    assert trail == [("fired", "evaluator", None), ("assigned", "li.wei", None),
                     ("acknowledged", "zhang.min", "crew on the way"), ("note", "zhang.min", "construction site dust"),
                     ("resolved", "zhang.min", "watering started")]  # fmt: skip
    assert all(e["at"] is not None for e in console.alert_events(db, alert_id))
    sent = [r["event_type"] for r in console.deliveries(db, alert_id)]
    assert sent == ["alert.firing"] * 2 + ["alert.acknowledged"] * 2 + ["alert.resolved"] * 2  # notes: nothing sent
    # the condition clearing later changes nothing: the alert is already resolved
    assert store.apply([cond(False)]) == 0


def test_a_silenced_alert_is_recorded_but_sends_nothing_for_its_whole_life(store, db):
    now = datetime.now(UTC)
    silence = console.create_silence(db, {"team": "env", "subject": "futian"}, now - timedelta(minutes=1),
                                     now + timedelta(hours=1), "li.wei", "planned burn-off")  # fmt: skip
    assert store.apply([cond(True), cond(True, subject="nanshan")]) == 2  # only nanshan is announced
    futian = db.execute("SELECT id, silenced FROM alerts WHERE subject = 'futian'").fetchone()
    assert futian[1] is True
    assert console.alert_events(db, futian[0])[0]["details"]["silence_id"] == silence
    assert console.expire_silence(db, silence)
    assert store.apply([cond(False)]) == 0  # receivers never heard of it, so no "resolved" either
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE alert_id = %s", futian[0]) == 0
    assert [s["id"] for s in console.silences(db, active_only=False)] == [silence]


def test_a_silence_outside_its_window_or_not_matching_mutes_nothing(store, db):
    now = datetime.now(UTC)
    console.create_silence(db, {"team": "env"}, now + timedelta(hours=1), now + timedelta(hours=2), "li.wei")
    console.create_silence(db, {"team": "water"}, now - timedelta(hours=1), now + timedelta(hours=2), "li.wei")
    assert store.apply([cond(True)]) == 2
    with pytest.raises(ValueError, match="at least one label matcher"):
        console.create_silence(db, {}, now, now + timedelta(hours=1), "li.wei")


def test_the_state_change_and_its_outbox_rows_commit_together(test_settings, db):
    conn = bootstrap.db_connection(test_settings)
    broken = AlertStore(conn, ["ops", "x" * 0], "https://ioc.example.org")
    db.execute("ALTER TABLE alert_outbox ADD CONSTRAINT receiver_named CHECK (receiver <> '')")
    with pytest.raises(Exception, match="receiver_named"):
        broken.apply([cond(True)])
    conn.close()
    assert count(db, "SELECT count(*) FROM alerts") == 0
    assert count(db, "SELECT count(*) FROM alert_events") == 0
    assert count(db, "SELECT count(*) FROM alert_outbox") == 0


def test_webhook_body_links_to_the_alert_in_the_dashboard(store, db):
    store.apply([cond(True)])
    body = db.execute("SELECT body FROM alert_outbox LIMIT 1").fetchone()[0]
    alert_id = db.execute("SELECT id FROM alerts").fetchone()[0]
    assert f'"link":"https://ioc.example.org/alerts/{alert_id}"' in body
    assert '"type":"alert.firing"' in body and '"summary":"PM2.5 futian 180.0"' in body
