"""What the incidents page, the map and the wall read (parameterised SQL; one schema per connection)."""

from __future__ import annotations

from collections.abc import Mapping

import psycopg
from psycopg.rows import dict_row

LIST_LIMIT = 500  # the list shows the newest incidents; older ones are in the database, not on one page
ENTRIES_LIMIT = 2000  # a timeline's entries (members are capped, officers' notes are not: bound the page)
ACTIVE_LIMIT = 200  # incidents drawn on the map and the wall
PEAKS_MAX = 20  # member alerts whose peak reading a timeline shows (an indexed probe each, one query)


def incidents(conn: psycopg.Connection, states: tuple[str, ...] = ("open", "monitoring", "closed"),
              limit: int = LIST_LIMIT) -> list[dict]:  # fmt: skip
    """Incidents in these states, open first, then newest; each with its last activity (latest timeline entry)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT i.*, (SELECT max(e.at) FROM incident_entries e WHERE e.incident_id = i.id) AS last_activity"
            " FROM incidents i WHERE i.state = ANY(%s)"
            " ORDER BY array_position(ARRAY['open','monitoring','closed'], i.state), i.opened_at DESC, i.id DESC"
            " LIMIT %s", (list(states), limit)
        ).fetchall()  # fmt: skip


def active(conn: psycopg.Connection, limit: int = ACTIVE_LIMIT) -> list[dict]:
    """Open and monitoring incidents, newest first (the map's layer and the wall's panel)."""
    return incidents(conn, ("open", "monitoring"), limit)


def incident(conn: psycopg.Connection, incident_id: int) -> dict | None:
    """One incident by id."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM incidents WHERE id = %s", (incident_id,)).fetchone()


def entries(conn: psycopg.Connection, incident_id: int, limit: int = ENTRIES_LIMIT) -> list[dict]:
    """The incident's timeline entries, in time order (id breaks ties: the order they were written)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM incident_entries WHERE incident_id = %s ORDER BY at, id LIMIT %s",
                           (incident_id, limit)).fetchall()  # fmt: skip


def member_alerts(conn: psycopg.Connection, incident_id: int) -> list[dict]:
    """The alerts of an incident as they are now."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT a.* FROM incident_members m JOIN alerts a ON a.id = m.member_key::bigint"
            " WHERE m.incident_id = %s AND m.kind = 'alert' ORDER BY a.fired_at, a.id", (incident_id,)
        ).fetchall()  # fmt: skip


def peak_readings(conn: psycopg.Connection, alerts: list[Mapping], metrics: Mapping[str, str],
                  lookback_s: float = 3600.0) -> list[dict]:  # fmt: skip
    """For each device alert whose rule names a metric (the first ``PEAKS_MAX`` of them): the highest reading of
    that metric from ``lookback_s`` before it fired until it resolved (or now), from the raw readings. One query
    for all of them (an indexed probe each), in the alerts' order: a timeline refreshes every few seconds."""
    wanted = [(a["id"], a["subject"], metrics[a["rule_id"]], a["fired_at"], a["resolved_at"])
              for a in alerts[:PEAKS_MAX] if metrics.get(a["rule_id"]) is not None]  # fmt: skip
    if not wanted:
        return []
    ids, devices, names, fired, resolved = (list(column) for column in zip(*wanted, strict=True))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT p.ts, p.device_id, p.metric, p.value, p.unit, q.alert_id"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
            "      WITH ORDINALITY AS q(alert_id, device_id, metric, fired_at, resolved_at, n)"
            " CROSS JOIN LATERAL (SELECT ts, device_id, metric, value, unit FROM sensor_readings r"
            "   WHERE r.device_id = q.device_id AND r.metric = q.metric"
            "     AND r.ts >= q.fired_at - make_interval(secs => %s) AND r.ts <= coalesce(q.resolved_at, now())"
            "   ORDER BY r.value DESC, r.ts LIMIT 1) p"
            " ORDER BY q.n",
            (ids, devices, names, fired, resolved, lookback_s),
        ).fetchall()  # fmt: skip
