"""Incidents in the database: grouping alerts and complaints, their timeline, state changes and webhooks.

``IncidentRecorder`` writes on the cursor of a transaction someone else opened: the alert store's, for an
alert change (``on_alert``) and for the complaint events of the same batch (``on_complaints``), and the
officers' command path (``act``). So an incident entry commits exactly when the change it follows commits: an
evaluator that dies before committing re-reads the same stream entries and writes them once, and a complaint
seen twice is one member (``incident_members`` is keyed by request id, a complaint's timeline entries by the
stream entry they came from). The decisions are pure (``incidents.grouping``, ``incidents.lifecycle``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from alerts import webhooks
from incidents.grouping import Candidate, GroupingRules, OpenIncident, Place, Verdict, decide
from incidents.lifecycle import (
    Entry,
    OfficerAction,
    State,
    after_alert_resolved,
    after_member,
    after_quiet,
    next_state,
)

EVALUATOR = "evaluator"
TITLE_MAX = 200
DESCRIPTION_MAX = 500  # of a complaint's text kept in the timeline entry (the request itself keeps it all)
# Alert actions the timeline records (alerts.state.Action values → entry kinds).
ALERT_ENTRIES = {"fired": Entry.ALERT_FIRED, "acknowledged": Entry.ALERT_ACKNOWLEDGED,
                 "resolved": Entry.ALERT_RESOLVED}  # fmt: skip
INCIDENT_FIELDS = ("id", "state", "title", "owner", "district", "lat", "lon", "opened_at", "closed_at", "members",
                   "open_alerts")  # fmt: skip
OPEN_INCIDENTS = ("SELECT id, district, lat, lon, extract(epoch FROM last_member_at)::float8 AS last_member_at,"
                  " members FROM incidents WHERE state <> 'closed' ORDER BY last_member_at DESC LIMIT %s")  # fmt: skip


class IncidentNotFound(LookupError):
    """No incident with that id."""


class IncidentRecorder:
    """Grouping and the incident lifecycle on the caller's transaction.

    ``rules`` None: this writer never groups (the dashboard's, which only follows alert changes into the
    timeline); ``subjects`` is each rule's subject kind (``device``, ``district``, …), which says where an alert
    is; ``text`` writes a webhook's human line (``i18n.webhook_text.incident_texter``)."""

    def __init__(self, rules: GroupingRules | None, subjects: Mapping[str, str], receivers: Sequence[str],
                 dashboard_url: str, text: Callable[..., str] | None = None, language: str = "en") -> None:  # fmt: skip
        self.rules = rules
        self.subjects = dict(subjects)
        self.receivers = tuple(receivers)
        self.dashboard_url = dashboard_url.rstrip("/")
        self.text, self.language = text, language

    # --- alerts -----------------------------------------------------------------------------------------------
    def on_alert(self, cur: psycopg.Cursor, alert: Mapping[str, Any], action: str, actor: str, note: str | None,
                 at: datetime, place: Place | None = None) -> int:  # fmt: skip
        """Follow an alert change into its incident (a fired alert may join or open one; ``place``: where the
        evaluator last heard its device, if it knows). Returns messages queued."""
        kind = ALERT_ENTRIES.get(str(action))
        if kind is None:
            return 0
        if kind is Entry.ALERT_FIRED:
            return self._alert_fired(cur, alert, at, place)
        cur.execute("SELECT incident_id FROM incident_members WHERE kind = 'alert' AND member_key = %s",
                    (str(alert["id"]),))  # fmt: skip
        row = cur.fetchone()
        if row is None:
            return 0
        incident = self._lock(cur, row["incident_id"])
        self._entry(cur, incident["id"], at, kind, actor, alert_id=alert["id"], note=note,
                    details=_alert_details(alert))  # fmt: skip
        if kind is not Entry.ALERT_RESOLVED:
            return 0
        still_open = max(0, incident["open_alerts"] - 1)
        state = after_alert_resolved(incident["state"], still_open)
        cur.execute("UPDATE incidents SET open_alerts = %s, updated_at = now() WHERE id = %s",
                    (still_open, incident["id"]))  # fmt: skip
        return self._move(cur, incident, state, actor, at, "alerts_resolved")

    def _alert_fired(self, cur: psycopg.Cursor, alert: Mapping[str, Any], at: datetime, heard: Place | None) -> int:
        if self.rules is None or not self.rules.enabled:
            return 0
        place = self._alert_place(cur, alert, heard)
        if place is None:
            return 0
        severity = str(alert["severity"])
        # A silenced alert may join but not open: an incident.opened would announce what the silence mutes.
        rules = self.rules if not alert.get("silenced") else _no_opening(self.rules)
        candidate = Candidate("alert", str(alert["rule_id"]), severity, place, at.timestamp())
        decision = decide(candidate, self._open_incidents(cur), rules)
        if decision.verdict is Verdict.IGNORE:
            return 0
        details = _alert_details(alert)
        if decision.verdict is Verdict.OPEN:
            title = str(alert.get("summary") or alert["rule_id"])[:TITLE_MAX]
            return self._open(cur, place, title, at, ("alert", str(alert["id"])), Entry.ALERT_FIRED,
                              {"alert_id": alert["id"], "details": details})  # fmt: skip
        queued = self._join(cur, decision.incident_id, ("alert", str(alert["id"])), at, Entry.ALERT_FIRED,
                            {"alert_id": alert["id"], "details": details}, counts_alert=True)  # fmt: skip
        return queued or 0

    def _alert_place(self, cur: psycopg.Cursor, alert: Mapping[str, Any], heard: Place | None) -> Place | None:
        """Where the alert is: the district it is about, or its device's position as the evaluator last heard it,
        else as the store last heard it (``sensor_latest``, which ingest may not have written yet)."""
        subject_kind = self.subjects.get(str(alert["rule_id"]))
        if subject_kind == "district":
            return Place(str(alert["subject"]))
        if subject_kind != "device":
            return None  # a site, a stream, the city: no place to group by
        if heard is not None:
            return heard
        cur.execute("SELECT district, lat, lon FROM sensor_latest WHERE device_id = %s LIMIT 1", (alert["subject"],))
        row = cur.fetchone()
        return Place(row["district"], row["lat"], row["lon"]) if row else None

    # --- complaints -------------------------------------------------------------------------------------------
    def on_complaints(self, cur: psycopg.Cursor, complaints: Sequence[Any]) -> int:
        """Complaint events (``streams.complaints.ComplaintEvent``) join incidents near them when they open and are
        noted on their incident's timeline when they close. Returns messages queued (always 0: a complaint opens
        nothing)."""
        if self.rules is None or not self.rules.enabled or not complaints:
            return 0
        wanted = [c for c in complaints if c.status in ("open", "closed")]
        if not wanted:
            return 0
        cur.execute("SELECT member_key, incident_id FROM incident_members WHERE kind = 'complaint'"
                    " AND member_key = ANY(%s)", ([c.request_id for c in wanted],))  # fmt: skip
        member_of = {r["member_key"]: r["incident_id"] for r in cur.fetchall()}
        incidents: list[OpenIncident] | None = None
        for c in wanted:
            details = _complaint_details(c)
            if c.status == "closed":
                if c.request_id in member_of:
                    self._entry(cur, member_of[c.request_id], c.ts, Entry.COMPLAINT_CLOSED, "public",
                                request_id=c.request_id, details=details, dedup_key=c.source_id)  # fmt: skip
                continue
            if c.request_id in member_of or not self.rules.joins_complaint(c.category):
                continue
            if incidents is None:
                incidents = self._open_incidents(cur)  # once per batch, and only if some complaint may join
            if not incidents:
                continue
            candidate = Candidate("complaint", c.category, None, Place(c.district, c.lat, c.lon), c.ts.timestamp())
            decision = decide(candidate, incidents, self.rules)
            if decision.verdict is not Verdict.JOIN:
                continue
            if self._join(cur, decision.incident_id, ("complaint", c.request_id), c.ts, Entry.COMPLAINT_OPENED,
                          {"request_id": c.request_id, "details": details, "dedup_key": c.source_id}) is not None:
                member_of[c.request_id] = decision.incident_id
                incidents = [i._replace(members=i.members + 1, last_member_at=max(i.last_member_at, c.ts.timestamp()))
                             if i.id == decision.incident_id else i for i in incidents]  # fmt: skip
        return 0

    # --- the clock ----------------------------------------------------------------------------------------------
    def sweep(self, cur: psycopg.Cursor, now: datetime) -> int:
        """Incidents quiet for the quiet period move on (monitoring → closed; open without open alerts →
        monitoring). Returns messages queued."""
        if self.rules is None or not self.rules.enabled:
            return 0
        cur.execute("SELECT * FROM incidents WHERE state <> 'closed' AND greatest(last_member_at, state_changed_at)"
                    " <= %s - make_interval(secs => %s) ORDER BY id FOR UPDATE",
                    (now, self.rules.quiet_s))  # fmt: skip
        queued = 0
        for incident in cur.fetchall():
            quiet_since = max(incident["last_member_at"], incident["state_changed_at"]).timestamp()
            state = after_quiet(incident["state"], incident["open_alerts"], quiet_since, now.timestamp(),
                                self.rules.quiet_s)  # fmt: skip
            queued += self._move(cur, incident, state, EVALUATOR, now, "quiet")
        return queued

    # --- officers -----------------------------------------------------------------------------------------------
    def act(self, cur: psycopg.Cursor, incident_id: int, action: OfficerAction, actor: str,
            state: str | None = None, note: str | None = None) -> tuple[dict, int]:  # fmt: skip
        """An officer's action (already allowed by role): take ownership, set the state, or add a note.
        Raises ``IncidentNotFound`` or ``lifecycle.IncidentRefused``. Returns the incident after it and the
        messages queued."""
        incident = self._lock(cur, incident_id)
        after = next_state(incident["state"], action, state)
        now = datetime.now(UTC)
        queued = 0
        if action is OfficerAction.TAKE_OWNERSHIP:
            cur.execute("UPDATE incidents SET owner = %s, updated_at = now() WHERE id = %s", (actor, incident_id))
            self._entry(cur, incident_id, now, Entry.OWNER, actor, note=note or None,
                        details={"owner": actor, "before": incident["owner"]})  # fmt: skip
        elif action is OfficerAction.SET_STATE:
            queued = self._move(cur, incident, after, actor, now, "officer", note)
        else:
            self._entry(cur, incident_id, now, Entry.NOTE, actor, note=note)
        return self._lock(cur, incident_id), queued

    # --- the writes ----------------------------------------------------------------------------------------------
    def _open_incidents(self, cur: psycopg.Cursor) -> list[OpenIncident]:
        cur.execute(OPEN_INCIDENTS, (self.rules.max_open + 1,))
        return [OpenIncident(r["id"], Place(r["district"], r["lat"], r["lon"]), r["last_member_at"], r["members"])
                for r in cur.fetchall()]  # fmt: skip

    def _lock(self, cur: psycopg.Cursor, incident_id: int) -> dict:
        cur.execute("SELECT * FROM incidents WHERE id = %s FOR UPDATE", (incident_id,))
        incident = cur.fetchone()
        if incident is None:
            raise IncidentNotFound(f"no incident {incident_id}")
        return incident

    def _open(self, cur: psycopg.Cursor, place: Place, title: str, at: datetime, member: tuple[str, str],
              kind: Entry, entry: Mapping[str, Any]) -> int:  # fmt: skip
        cur.execute("INSERT INTO incidents (state, title, district, lat, lon, opened_at, last_member_at,"
                    " state_changed_at, members, open_alerts) VALUES ('open', %s, %s, %s, %s, %s, %s, %s, 1, %s)"
                    " RETURNING *",
                    (title, place.district, place.lat, place.lon, at, at, at,
                     1 if member[0] == "alert" else 0))  # fmt: skip
        incident = cur.fetchone()
        cur.execute("INSERT INTO incident_members (kind, member_key, incident_id, joined_at) VALUES (%s, %s, %s, %s)",
                    (*member, incident["id"], at))  # fmt: skip
        self._entry(cur, incident["id"], at, Entry.OPENED, EVALUATOR, details={"district": place.district})
        self._entry(cur, incident["id"], at, kind, EVALUATOR, **entry)
        return self._announce(cur, incident, "incident.opened", EVALUATOR, at, None)

    def _join(self, cur: psycopg.Cursor, incident_id: int, member: tuple[str, str], at: datetime, kind: Entry,
              entry: Mapping[str, Any], counts_alert: bool = False) -> int | None:  # fmt: skip
        """Add a member; None if it already belonged to an incident (seen before), or the incident closed since it
        was chosen (an officer's close commits between). Returns messages queued."""
        incident = self._lock(cur, incident_id)
        if incident["state"] == State.CLOSED:
            return None
        cur.execute("INSERT INTO incident_members (kind, member_key, incident_id, joined_at) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING incident_id", (*member, incident_id, at))  # fmt: skip
        if cur.fetchone() is None:
            return None
        cur.execute("UPDATE incidents SET members = members + 1, open_alerts = open_alerts + %s,"
                    " last_member_at = greatest(last_member_at, %s), updated_at = now() WHERE id = %s",
                    (1 if counts_alert else 0, at, incident_id))  # fmt: skip
        actor = EVALUATOR if member[0] == "alert" else "public"
        self._entry(cur, incident_id, at, kind, actor, **entry)
        return self._move(cur, incident, after_member(incident["state"]), EVALUATOR, at, "new_member")

    def _move(self, cur: psycopg.Cursor, incident: Mapping[str, Any], state: State, actor: str, at: datetime,
              reason: str, note: str | None = None) -> int:  # fmt: skip
        """Set the incident's state (and record it) if it changes; a close is announced."""
        if state == incident["state"]:
            return 0
        closed = state is State.CLOSED
        cur.execute("UPDATE incidents SET state = %s, state_changed_at = %s, closed_at = %s, updated_at = now()"
                    " WHERE id = %s RETURNING *",
                    (state.value, at, at if closed else None, incident["id"]))  # fmt: skip
        after = cur.fetchone()
        self._entry(cur, incident["id"], at, Entry.STATE, actor, note=note,
                    details={"from": incident["state"], "to": state.value, "reason": reason})  # fmt: skip
        return self._announce(cur, after, "incident.closed", actor, at, note) if closed else 0

    @staticmethod
    def _entry(cur: psycopg.Cursor, incident_id: int, at: datetime, kind: Entry, actor: str, *,
               alert_id: int | None = None, request_id: str | None = None, note: str | None = None,
               details: Mapping[str, Any] | None = None, dedup_key: str | None = None) -> None:  # fmt: skip
        cur.execute("INSERT INTO incident_entries (incident_id, at, kind, actor, alert_id, request_id, note, details,"
                    " dedup_key) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    (incident_id, at, kind.value, actor, alert_id, request_id, note, Jsonb(dict(details or {})),
                     dedup_key))  # fmt: skip

    def _announce(self, cur: psycopg.Cursor, incident: Mapping[str, Any], event_type: str, actor: str, at: datetime,
                  note: str | None) -> int:  # fmt: skip
        """Queue ``incident.opened`` / ``incident.closed`` for every receiver, in this transaction (the outbox)."""
        change = {"action": event_type.removeprefix("incident."), "actor": actor, "at": at, "note": note}
        line = self.text(event_type, incident, change) if self.text else ""
        body = webhooks.incident_body(event_type, {k: incident.get(k) for k in INCIDENT_FIELDS}, change,
                                      f"{self.dashboard_url}/incidents/{incident['id']}", at, line, self.language)
        for receiver in self.receivers:
            cur.execute("INSERT INTO alert_outbox (message_id, incident_id, receiver, event_type, body)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        (webhooks.new_message_id(), incident["id"], receiver, event_type, body))  # fmt: skip
        return len(self.receivers)


def _no_opening(rules: GroupingRules) -> GroupingRules:
    return replace(rules, open_severities=frozenset())


def _alert_details(alert: Mapping[str, Any]) -> dict[str, Any]:
    return {"rule_id": alert.get("rule_id"), "subject": alert.get("subject"), "severity": alert.get("severity"),
            "value": alert.get("value"), "threshold": alert.get("threshold"),
            "summary": str(alert.get("summary") or "")[:TITLE_MAX]}  # fmt: skip


def _complaint_details(c: Any) -> dict[str, Any]:
    return {"category": c.category, "district": c.district, "lat": c.lat, "lon": c.lon, "channel": c.channel,
            "description": (c.description or "")[:DESCRIPTION_MAX]}  # fmt: skip
