"""Accounts, display tokens and sessions in the database (parameterised SQL; the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from auth.lockout import FailureCount

USER_COLUMNS = (
    "id, username, full_name, role, origin, disabled_at, failed_signins, locked_until, last_signin_at,"
    " created_at, password_hash IS NOT NULL AS has_password, language"
)
DISPLAY_COLUMNS = (
    "id, name, playlist, interval_s, created_by, created_at, last_used_at, revoked_at, revoked_by, language"
)


def _one(conn: psycopg.Connection, query: str, params: Sequence[object]) -> dict | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def _all(conn: psycopg.Connection, query: str, params: Sequence[object] = ()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


# --- users ------------------------------------------------------------------------------------------------------
def user_by_name(conn: psycopg.Connection, username: str, *, lock: bool = False) -> dict | None:
    """One account by user name, with its password hash; ``lock`` holds the row to the end of the transaction."""
    return _one(
        conn,
        f"SELECT {USER_COLUMNS}, password_hash FROM auth_users WHERE username = %s" + (" FOR UPDATE" if lock else ""),
        (username,),
    )


def users(conn: psycopg.Connection) -> list[dict]:
    """Every account, by name (no password hashes)."""
    return _all(conn, f"SELECT {USER_COLUMNS} FROM auth_users ORDER BY username")


def count_users(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM auth_users").fetchone()[0]


def add_user(
    conn: psycopg.Connection, username: str, full_name: str, role: str, password_hash: str | None, origin: str = "local"
) -> dict:
    """A new account; raises ``psycopg.errors.UniqueViolation`` if the name is taken."""
    return _one(
        conn,
        f"INSERT INTO auth_users (username, full_name, role, password_hash, origin)"
        f" VALUES (%s, %s, %s, %s, %s) RETURNING {USER_COLUMNS}",
        (username, full_name, role, password_hash, origin),
    )


def update_user(conn: psycopg.Connection, user_id: int, **changes: object) -> dict | None:
    """Set ``role``, ``disabled_at``, ``password_hash``, ``full_name``, ``language`` (only these) on one account."""
    allowed = {"role", "disabled_at", "password_hash", "full_name", "failed_signins", "locked_until", "language"}
    if not changes or set(changes) - allowed:
        raise ValueError(f"update_user sets only {sorted(allowed)}")
    sets = ", ".join(f"{name} = %({name})s" for name in changes)
    return _one(
        conn,
        f"UPDATE auth_users SET {sets}, updated_at = now() WHERE id = %(id)s RETURNING {USER_COLUMNS}",
        {**changes, "id": user_id},
    )


def record_failure(conn: psycopg.Connection, user_id: int, count: FailureCount) -> None:
    conn.execute(
        "UPDATE auth_users SET failed_signins = %s, locked_until = %s WHERE id = %s",
        (count.failures, count.locked_until, user_id),
    )


def record_signin(conn: psycopg.Connection, user_id: int, at: datetime) -> None:
    conn.execute(
        "UPDATE auth_users SET failed_signins = 0, locked_until = NULL, last_signin_at = %s WHERE id = %s",
        (at, user_id),
    )


def active_officers(conn: psycopg.Connection) -> list[dict]:
    """Enabled operators and admins: who an alert may be assigned to."""
    return _all(
        conn,
        "SELECT username, full_name FROM auth_users WHERE disabled_at IS NULL"
        " AND role IN ('operator', 'admin') ORDER BY username",
    )


# --- sessions ---------------------------------------------------------------------------------------------------
def create_session(
    conn: psycopg.Connection,
    digest: bytes,
    expires_at: datetime,
    address: str,
    *,
    user_id: int | None = None,
    display_id: int | None = None,
) -> int:
    return conn.execute(
        "INSERT INTO auth_sessions (token_sha256, user_id, display_id, address, expires_at)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING id",
        (digest, user_id, display_id, address[:64], expires_at),
    ).fetchone()[0]


# One query answers "who holds this cookie" for people and displays alike, with what makes it invalid.
SESSION_LOOKUP = """
SELECT s.token_sha256, s.id AS session_id, s.expires_at, s.ended_at,
       u.id AS user_id, u.username, u.full_name, u.role, u.disabled_at,
       d.id AS display_id, d.name AS display_name, d.playlist, d.interval_s, d.revoked_at,
       coalesce(u.language, d.language) AS language
FROM auth_sessions s
LEFT JOIN auth_users u ON u.id = s.user_id
LEFT JOIN auth_displays d ON d.id = s.display_id
"""


def session(conn: psycopg.Connection, digest: bytes) -> dict | None:
    """The session with this token digest and its user or display, valid or not."""
    return _one(conn, SESSION_LOOKUP + " WHERE s.token_sha256 = %s", (digest,))


def sessions(conn: psycopg.Connection, digests: Sequence[bytes]) -> dict[bytes, dict]:
    """Several sessions at once (a process re-checking the displays it serves), by token digest."""
    rows = _all(conn, SESSION_LOOKUP + " WHERE s.token_sha256 = ANY(%s)", (list(digests),))
    return {bytes(row["token_sha256"]): row for row in rows}


def end_session(conn: psycopg.Connection, digest: bytes) -> int | None:
    """End one session (sign-out); its id, or None if it had ended."""
    row = conn.execute(
        "UPDATE auth_sessions SET ended_at = now() WHERE token_sha256 = %s AND ended_at IS NULL RETURNING id", (digest,)
    ).fetchone()
    return row[0] if row else None


def end_sessions_of_user(conn: psycopg.Connection, user_id: int) -> int:
    """End every open session of a user (disabled, or password reset); how many."""
    return conn.execute(
        "UPDATE auth_sessions SET ended_at = now() WHERE user_id = %s AND ended_at IS NULL", (user_id,)
    ).rowcount


def delete_expired_sessions(conn: psycopg.Connection, before: datetime) -> int:
    """Forget sessions that ended or expired before ``before`` (the audit trail keeps their story)."""
    return conn.execute("DELETE FROM auth_sessions WHERE expires_at < %s OR ended_at < %s", (before, before)).rowcount


# --- displays ---------------------------------------------------------------------------------------------------
def add_display(
    conn: psycopg.Connection,
    name: str,
    digest: bytes,
    playlist: Sequence[str],
    interval_s: int,
    created_by: str,
    language: str | None = None,
) -> dict:
    return _one(
        conn,
        f"INSERT INTO auth_displays (name, token_sha256, playlist, interval_s, created_by, language)"
        f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {DISPLAY_COLUMNS}",
        (name, digest, list(playlist), interval_s, created_by, language),
    )


def display_by_token(conn: psycopg.Connection, digest: bytes) -> dict | None:
    return _one(conn, f"SELECT {DISPLAY_COLUMNS} FROM auth_displays WHERE token_sha256 = %s", (digest,))


def display_by_name(conn: psycopg.Connection, name: str) -> dict | None:
    return _one(conn, f"SELECT {DISPLAY_COLUMNS} FROM auth_displays WHERE name = %s", (name,))


def displays(conn: psycopg.Connection) -> list[dict]:
    """Every display token ever issued, newest first."""
    return _all(conn, f"SELECT {DISPLAY_COLUMNS} FROM auth_displays ORDER BY created_at DESC LIMIT 1000")


def touch_display(conn: psycopg.Connection, display_id: int) -> None:
    conn.execute("UPDATE auth_displays SET last_used_at = now() WHERE id = %s", (display_id,))


def revoke_display(conn: psycopg.Connection, display_id: int, by: str) -> dict | None:
    """Revoke a display token and end its sessions; None if it was already revoked."""
    row = _one(
        conn,
        f"UPDATE auth_displays SET revoked_at = now(), revoked_by = %s WHERE id = %s"
        f" AND revoked_at IS NULL RETURNING {DISPLAY_COLUMNS}",
        (by, display_id),
    )
    if row is not None:
        conn.execute(
            "UPDATE auth_sessions SET ended_at = now() WHERE display_id = %s AND ended_at IS NULL", (display_id,)
        )
    return row
