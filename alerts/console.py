"""What the alert console reads and the silences it writes (parameterised SQL, one schema per connection).

Kept apart from ``AlertStore`` (the lifecycle writer) so the console's pages can use a read-only pool for the
queries; silences are written here because they touch no alert row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb


def create_silence(conn: psycopg.Connection, matchers: Mapping[str, str], starts_at: datetime, ends_at: datetime,
                   actor: str, comment: str = "") -> int:  # fmt: skip
    """Mute notifications of alerts whose labels match every matcher, from ``starts_at`` to ``ends_at``."""
    if not matchers or not all(isinstance(k, str) and isinstance(v, str) for k, v in matchers.items()):
        raise ValueError("a silence needs at least one label matcher, name = value (strings)")
    if ends_at <= starts_at:
        raise ValueError("a silence must end after it starts")
    with conn.transaction():
        row = conn.execute("INSERT INTO alert_silences (matchers, starts_at, ends_at, created_by, comment)"
                           " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                           (Jsonb(dict(matchers)), starts_at, ends_at, actor, comment)).fetchone()  # fmt: skip
    return row[0]


def expire_silence(conn: psycopg.Connection, silence_id: int) -> bool:
    """End a silence now; False if it had already ended or does not exist."""
    with conn.transaction():
        cur = conn.execute("UPDATE alert_silences SET ends_at = greatest(now(), starts_at + interval '1 microsecond')"
                           " WHERE id = %s AND ends_at > now()", (silence_id,))  # fmt: skip
    return cur.rowcount == 1


def silences(conn: psycopg.Connection, *, active_only: bool = True) -> list[dict]:
    """Silences, newest first (those in force or still to come, unless ``active_only`` is False)."""
    where = "WHERE ends_at > now()" if active_only else ""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT * FROM alert_silences {where} ORDER BY starts_at DESC LIMIT 500").fetchall()


# The incident an alert belongs to (incident_id, incident_title, incident_state; NULL: none), by the members' key.
WITH_INCIDENT = ("SELECT a.*, i.id AS incident_id, i.title AS incident_title, i.state AS incident_state FROM {alerts} a"
                 " LEFT JOIN incident_members m ON m.kind = 'alert' AND m.member_key = a.id::text"
                 " LEFT JOIN incidents i ON i.id = m.incident_id")  # fmt: skip
OPEN_ORDER = "array_position(ARRAY['critical','warning','info'], a.severity), a.fired_at DESC, a.id DESC"


def open_alerts(conn: psycopg.Connection, limit: int = 100, offset: int = 0) -> list[dict]:
    """One page of the firing and acknowledged alerts, critical first, then newest (id breaks ties, so pages
    neither repeat nor skip an alert), each with its incident if it belongs to one. The page is cut first and
    only its rows are joined: an index probe each, however many alerts are open."""
    page = ("(SELECT * FROM alerts a WHERE a.status <> 'resolved' ORDER BY " + OPEN_ORDER
            + " LIMIT %s OFFSET %s)")  # fmt: skip
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(WITH_INCIDENT.format(alerts=page) + " ORDER BY " + OPEN_ORDER, (limit, offset)).fetchall()


def open_alert_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Open alerts per severity (all of them, not one page)."""
    return dict(conn.execute("SELECT severity, count(*) FROM alerts WHERE status <> 'resolved' GROUP BY 1").fetchall())


def alert(conn: psycopg.Connection, alert_id: int) -> dict | None:
    """One alert by id, with its incident if it belongs to one."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(WITH_INCIDENT.format(alerts="alerts") + " WHERE a.id = %s", (alert_id,)).fetchone()


def alert_events(conn: psycopg.Connection, alert_id: int) -> list[dict]:
    """The audit trail of one alert, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT * FROM alert_events WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()


def deliveries(conn: psycopg.Connection, alert_id: int) -> list[dict]:
    """The webhook messages of one alert, with their delivery state."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT id, message_id, receiver, event_type, status, attempts, created_at,"
                           " next_attempt_at, delivered_at, last_status, last_error FROM alert_outbox"
                           " WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()  # fmt: skip


def dead_letters(conn: psycopg.Connection, limit: int = 200) -> list[dict]:
    """Webhook messages given up on (retries exhausted, or refused for good), newest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute("SELECT id, message_id, alert_id, incident_id, receiver, event_type, attempts, created_at,"
                           " last_status, last_error FROM alert_outbox WHERE status = 'dead'"
                           " ORDER BY created_at DESC LIMIT %s", (limit,)).fetchall()  # fmt: skip


def outbox_by_receiver(conn: psycopg.Connection) -> dict[str, dict[str, int]]:
    """Receiver → webhook messages by status (pending, delivered, dead)."""
    rows = conn.execute("SELECT receiver, status, count(*) FROM alert_outbox GROUP BY 1, 2").fetchall()
    health: dict[str, dict[str, int]] = {}
    for receiver, status, count in rows:
        health.setdefault(receiver, {})[status] = count
    return health
