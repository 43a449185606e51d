"""The alert store: conditions and people's actions become alert rows, audit events and outbox messages.

Each call is ONE transaction: the alert's new state, its ``alert_events`` row and its outbox messages commit
together or not at all (the transactional outbox), and ``pg_notify`` wakes the senders at commit. The rules of
the lifecycle live in ``alerts/state.py``; this module only reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from alerts import webhooks
from alerts.evaluate import Condition
from alerts.state import EVENT_TYPES, Action, alert_labels, next_status, notifies, silence_matches
from incidents.store import IncidentRecorder

EVALUATOR = "evaluator"
# The subject of a rule's summary alert once it has ``max_open_per_rule`` alerts open (docs/ALERTS.md).
HELD_BACK = "(more subjects)"
NOTIFY = "SELECT pg_notify('ioc_alert_outbox:' || current_schema(), '')"


def outbox_channel(schema: str) -> str:
    """The LISTEN channel senders wait on for new outbox messages in ``schema``."""
    return f"ioc_alert_outbox:{schema}"


class AlertNotFound(LookupError):
    """No alert with that id."""


class AlertStore:
    """Alerts in one schema; ``receivers`` are the names each notification goes to."""

    def __init__(self, conn: psycopg.Connection, receivers: Sequence[str], dashboard_url: str,
                 max_open_per_rule: int | None = None, text: Callable[..., str] | None = None,
                 language: str = "en", incidents: IncidentRecorder | None = None) -> None:  # fmt: skip
        self.conn = conn
        # Follows every alert change into its incident in the same transaction (incidents/store.py).
        self.incidents = incidents
        self._places: Mapping[str, Any] = {}
        # The human line of each webhook message (i18n.webhook_text.texter), in the city's language.
        self.text, self.language = text, language
        # Past this many open alerts a rule opens one summary alert instead of one alert (and webhook) per subject.
        self.max_open_per_rule = max_open_per_rule
        self.receivers = tuple(receivers)
        self.dashboard_url = dashboard_url.rstrip("/")

    # --- from the evaluator ----------------------------------------------------------------------------
    def apply(self, conditions: Sequence[Condition], complaints: Sequence[Any] = (),
              places: Mapping[str, Any] | None = None) -> int:  # fmt: skip
        """Record conditions: new alerts fire, cleared ones resolve, repeats change nothing; then the batch's
        complaint events join incidents. ``places``: where the evaluator last heard each device
        (``incidents.grouping.Place``), which says where a device's alert is. Returns messages queued."""
        self._places = places or {}
        grouping = (self.incidents is not None and self.incidents.rules is not None and self.incidents.rules.enabled
                    and bool(complaints))  # fmt: skip
        if not conditions and not grouping:
            return 0
        queued = 0
        with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
            silences = self._active_silences(cur) if conditions else []
            for c in conditions:
                queued += self._fire(cur, c, silences) if c.firing else self._clear(cur, c, silences)
            if grouping:
                queued += self.incidents.on_complaints(cur, complaints)
            if queued:
                cur.execute(NOTIFY)
        return queued

    def revise(self, revisions: Sequence[Condition]) -> int:
        """Write newer forecasts onto open predicted alerts (``Evaluator.take_revisions``): expected time, interval,
        when the forecast was made, the value and summary that go with them, in one statement. Nothing else: no
        ``alert_events`` row (the "fired" one keeps the forecast the alert opened with), no webhook (receivers
        hear of a predicted alert when it fires and when it resolves), no incident entry. Returns rows updated;
        a revision for an alert resolved or never opened (held back by the cap) changes nothing."""
        rows = [(c.rule_id, c.subject, *_prediction_columns(c)[1:], c.summary, c.value, c.at)
                for c in revisions if c.prediction is not None]  # fmt: skip
        if not rows:
            return 0
        with self.conn.transaction():
            cur = self.conn.execute(
                "UPDATE alerts a SET forecast_at = r.forecast_at, expected_at = r.expected_at,"
                " expected_earliest = r.earliest, expected_latest = r.latest, summary = r.summary, value = r.value,"
                " updated_at = r.at"
                " FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[],"
                "             %s::timestamptz[], %s::text[], %s::float8[], %s::timestamptz[])"
                "      AS r(rule_id, subject, forecast_at, expected_at, earliest, latest, summary, value, at)"
                " WHERE a.rule_id = r.rule_id AND a.subject = r.subject AND a.predicted AND a.status <> 'resolved'",
                [list(column) for column in zip(*rows, strict=True)],
            )  # fmt: skip
        return cur.rowcount

    def sweep_incidents(self, now: datetime) -> int:
        """Move quiet incidents on (``IncidentRecorder.sweep``), in a transaction of its own."""
        if self.incidents is None or self.incidents.rules is None or not self.incidents.rules.enabled:
            return 0  # no [incidents] table: not even a query a tick
        with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
            queued = self.incidents.sweep(cur, now)
            if queued:
                cur.execute(NOTIFY)
        return queued

    def _fire(self, cur: psycopg.Cursor, c: Condition, silences: list[dict]) -> int:
        if self.max_open_per_rule is not None and self._over_cap(cur, c):
            return self._hold_back(cur, c, silences)
        labels = alert_labels(c.rule_id, c.severity, c.subject, c.labels)
        muted = _muted(labels, silences)
        cur.execute(
            "INSERT INTO alerts (rule_id, subject, severity, status, summary, labels, value, threshold, silenced,"
            " fired_at, updated_at, predicted, forecast_at, expected_at, expected_earliest, expected_latest,"
            " annotations)"
            " VALUES (%s, %s, %s, 'firing', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (rule_id, subject) WHERE status <> 'resolved' DO NOTHING RETURNING *",
            (c.rule_id, c.subject, c.severity, c.summary, Jsonb(labels), c.value, c.threshold, muted is not None,
             c.at, c.at, *_prediction_columns(c), Jsonb(dict(c.annotations))),
        )  # fmt: skip
        alert = cur.fetchone()
        if alert is None:  # already open: the same alert, nothing to announce (deduplication)
            cur.execute("UPDATE alerts SET value = %s, updated_at = %s WHERE rule_id = %s AND subject = %s"
                        " AND status <> 'resolved'", (c.value, c.at, c.rule_id, c.subject))  # fmt: skip
            return 0
        details = {"value": c.value, "summary": c.summary, **({"silence_id": muted} if muted else {}),
                   **_forecast_details(alert)}  # fmt: skip
        return self._record(cur, alert, Action.FIRED, EVALUATOR, None, details, c.at, silences)

    def _over_cap(self, cur: psycopg.Cursor, c: Condition) -> bool:
        """The rule has its maximum of open alerts, none of them about this subject."""
        cur.execute("SELECT count(*) FILTER (WHERE subject <> %(held)s) AS open, bool_or(subject = %(subject)s) AS mine"
                    " FROM alerts WHERE rule_id = %(rule)s AND status <> 'resolved'",
                    {"held": HELD_BACK, "subject": c.subject, "rule": c.rule_id})  # fmt: skip
        row = cur.fetchone()
        return not row["mine"] and row["open"] >= self.max_open_per_rule

    def _hold_back(self, cur: psycopg.Cursor, c: Condition, silences: list[dict]) -> int:
        """One summary alert per rule counts the subjects held back (its value); it fires (and notifies) once."""
        summary = (
            f"{c.rule_id}: {self.max_open_per_rule} alerts already open; more subjects breach this rule and are "
            f"counted here instead of each opening an alert (latest: {c.subject[:80]})"
        )
        labels = alert_labels(c.rule_id, c.severity, HELD_BACK, c.labels) | {"capped": "true"}
        muted = _muted(labels, silences)
        cur.execute(
            "INSERT INTO alerts (rule_id, subject, severity, status, summary, labels, value, threshold, silenced,"
            " fired_at, updated_at) VALUES (%s, %s, %s, 'firing', %s, %s, 1, %s, %s, %s, %s)"
            " ON CONFLICT (rule_id, subject) WHERE status <> 'resolved' DO NOTHING RETURNING *",
            (c.rule_id, HELD_BACK, c.severity, summary, Jsonb(labels), self.max_open_per_rule, muted is not None,
             c.at, c.at),
        )  # fmt: skip
        alert = cur.fetchone()
        if alert is None:
            cur.execute("UPDATE alerts SET value = value + 1, summary = %s, updated_at = %s WHERE rule_id = %s"
                        " AND subject = %s AND status <> 'resolved'",
                        (summary, c.at, c.rule_id, HELD_BACK))  # fmt: skip
            return 0
        details = {"value": 1, "summary": summary, "held_back": c.subject, **({"silence_id": muted} if muted else {})}
        return self._record(cur, alert, Action.FIRED, EVALUATOR, None, details, c.at, silences)

    def _clear(self, cur: psycopg.Cursor, c: Condition, silences: list[dict]) -> int:
        cur.execute(
            "UPDATE alerts SET status = 'resolved', resolved_at = %s, resolved_by = %s, value = %s, updated_at = %s"
            " WHERE rule_id = %s AND subject = %s AND status <> 'resolved' RETURNING *",
            (c.at, EVALUATOR, c.value, c.at, c.rule_id, c.subject),
        )  # fmt: skip
        alert = cur.fetchone()
        if alert is None:
            return 0
        return self._record(cur, alert, Action.RESOLVED, EVALUATOR, "condition cleared", {"value": c.value}, c.at,
                            silences)  # fmt: skip

    # --- from people (the console) ----------------------------------------------------------------------
    def acknowledge(self, alert_id: int, actor: str, note: str | None = None) -> dict:
        """Someone is on it: firing → acknowledged (refused in any other status)."""
        return self._act(alert_id, Action.ACKNOWLEDGED, actor, note,
                         "acknowledged_at = now(), acknowledged_by = %(actor)s")  # fmt: skip

    def resolve(self, alert_id: int, actor: str, note: str | None = None) -> dict:
        """Resolved by hand (firing or acknowledged → resolved)."""
        return self._act(alert_id, Action.RESOLVED, actor, note, "resolved_at = now(), resolved_by = %(actor)s")

    def add_note(self, alert_id: int, actor: str, note: str) -> dict:
        """A note on the alert's trail; nothing else changes and nothing is sent."""
        return self._act(alert_id, Action.NOTE, actor, note, None)

    def assign(self, alert_id: int, actor: str, assignee: str | None) -> dict:
        """Give the alert to someone (None: to nobody)."""
        return self._act(alert_id, Action.ASSIGNED, actor, None, "assignee = %(assignee)s", {"assignee": assignee})

    def _act(self, alert_id: int, action: Action, actor: str, note: str | None, assignment: str | None,
             details: Mapping[str, Any] | None = None) -> dict:  # fmt: skip
        with self.conn.transaction(), self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT * FROM alerts WHERE id = %s FOR UPDATE", (alert_id,))
            alert = cur.fetchone()
            if alert is None:
                raise AlertNotFound(f"no alert {alert_id}")
            status = next_status(alert["status"], action)  # raises InvalidTransition
            params = {"id": alert_id, "actor": actor, "status": status.value, **(details or {})}
            sets = "status = %(status)s, updated_at = now()" + (f", {assignment}" if assignment else "")
            cur.execute(f"UPDATE alerts SET {sets} WHERE id = %(id)s RETURNING *", params)
            alert = cur.fetchone()
            if self._record(cur, alert, action, actor, note, dict(details or {}), alert["updated_at"],
                            self._active_silences(cur)):  # fmt: skip
                cur.execute(NOTIFY)
            return alert

    # --- the audit trail and the outbox -------------------------------------------------------------------
    def _record(self, cur: psycopg.Cursor, alert: dict, action: Action, actor: str, note: str | None,
                details: dict, at: datetime, silences: list[dict]) -> int:  # fmt: skip
        cur.execute("INSERT INTO alert_events (alert_id, at, actor, action, note, details)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (alert["id"], at, actor, action.value, note, Jsonb(details)))  # fmt: skip
        queued = self._queue(cur, alert, action, actor, note, at, silences)  # the alert's message, then its incident's
        if self.incidents is not None:
            place = self._places.get(alert["subject"]) if action is Action.FIRED else None
            queued += self.incidents.on_alert(cur, alert, action.value, actor, note, at, place)
        return queued

    def _queue(self, cur: psycopg.Cursor, alert: dict, action: Action, actor: str, note: str | None, at: datetime,
               silences: list[dict]) -> int:  # fmt: skip
        if not notifies(action, alert["silenced"], _muted(alert["labels"], silences) is not None):
            return 0
        event_type = EVENT_TYPES[action]
        change = {"action": action.value, "actor": actor, "at": at, "note": note}
        line = self.text(event_type, alert, change) if self.text else ""
        text = webhooks.body(event_type, alert, change, f"{self.dashboard_url}/alerts/{alert['id']}", at, line,
                             self.language)  # fmt: skip
        for receiver in self.receivers:
            cur.execute("INSERT INTO alert_outbox (message_id, alert_id, receiver, event_type, body)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (webhooks.new_message_id(), alert["id"], receiver, event_type, text))  # fmt: skip
        return len(self.receivers)

    @staticmethod
    def _active_silences(cur: psycopg.Cursor) -> list[dict]:
        cur.execute("SELECT id, matchers FROM alert_silences WHERE starts_at <= now() AND ends_at > now()")
        return cur.fetchall()


def _prediction_columns(c: Condition) -> tuple:
    """predicted, forecast_at, expected_at, expected_earliest, expected_latest of a condition (a forecast's)."""
    p = c.prediction
    if p is None:
        return False, None, None, None, None
    at = [None if t is None else datetime.fromtimestamp(t, UTC) for t in (p.made_at, p.expected, p.earliest, p.latest)]
    return True, *at


def _forecast_details(alert: Mapping) -> dict[str, str]:
    """A predicted alert's forecast as it fired, for its "fired" event: the row's own columns follow later
    forecasts (``revise``), the audit trail keeps the first."""
    if not alert.get("predicted"):
        return {}
    keys = ("forecast_at", "expected_at", "expected_earliest", "expected_latest")
    return {k: alert[k].isoformat() for k in keys if alert.get(k) is not None}


def _muted(labels: Mapping[str, str], silences: list[dict]) -> int | None:
    """The id of a silence in force that matches these labels, if any."""
    return next((s["id"] for s in silences if silence_matches(s["matchers"], labels)), None)
