"""The PostgreSQL roles of the IOC and what each may do (docs/SECURITY.md, "Accounts").

Roles are cluster-wide: ``ensure_roles`` creates them (as an administrator: `ioc services up`, or `ioc migrate`
when it connects as one). Privileges are per schema: ``grant`` runs at the end of every `ioc migrate`, as the
schema's owner, and sets each role's privileges on the tables to exactly ``GRANTS`` (revoke all, then grant),
so a change here reaches every deployment on its next migration.

- ``ioc_owner`` (no login) owns the schema and its tables; migrations run as it (``SET ROLE``).
- ``ioc_ingest``, ``ioc_alerts``, ``ioc_dashboard`` (login) are the processes.
- ``ioc_audit_writer`` (no login) may only INSERT into ``audit_log``; the dashboard gets that through membership.
  ``audit_log`` and ``alert_events`` also refuse UPDATE, DELETE and TRUNCATE by trigger, for every role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import zlib
from collections.abc import Mapping

import psycopg
from psycopg import sql

from storage.policies import HOUR_TABLES, MINUTE_TABLES, RAW_TABLES

log = logging.getLogger(__name__)

OWNER = "ioc_owner"
INGEST = "ioc_ingest"
ALERTS = "ioc_alerts"
DASHBOARD = "ioc_dashboard"
AUDIT_WRITER = "ioc_audit_writer"
LOGIN_ROLES = (INGEST, ALERTS, DASHBOARD)
GROUP_ROLES = (OWNER, AUDIT_WRITER)
MEMBERSHIPS = ((AUDIT_WRITER, DASHBOARD),)  # (granted role, member)

STATE_TABLES = ("sensor_latest", "datacenter_latest", "complaints")
ROLLUP_TABLES = MINUTE_TABLES + HOUR_TABLES
# What an officer's action may change on an alert (alerts/store.py `_act`); the evaluator alone writes the rest.
ALERT_ACTION_COLUMNS = ("status", "updated_at", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
                        "assignee")  # fmt: skip
# What an officer's action, or an alert change made from the console, may change on an incident (incidents/store.py).
INCIDENT_ACTION_COLUMNS = ("state", "owner", "state_changed_at", "closed_at", "open_alerts", "updated_at")

# Role → (privileges, tables). ``*`` stands for every table of the schema.
GRANTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    INGEST: (
        ("SELECT, INSERT", RAW_TABLES),  # COPY, and INSERT … ON CONFLICT DO NOTHING RETURNING for redeliveries
        ("SELECT, INSERT, UPDATE, DELETE", STATE_TABLES),  # upserts; silent devices leave current state
        ("SELECT, INSERT, UPDATE", ROLLUP_TABLES),  # per-minute and per-hour upserts
    ),
    ALERTS: (
        ("SELECT", STATE_TABLES),  # a new leader's memory: heard devices and sites, open complaints
        ("SELECT", ("sensor_rollup_1h",)),  # anomaly rules' baselines (alerts/baselines.py)
        # per-device anomaly rules: the hourly means the evaluator writes and reads, and their one-off back-fill
        # from the raw readings (alerts/device_baselines.py)
        ("SELECT, INSERT, UPDATE", ("device_rollup_1h",)),
        ("SELECT", ("sensor_readings",)),
        ("SELECT, INSERT, UPDATE", ("alerts", "alert_outbox")),  # the evaluator's lifecycle; the sender's claims
        ("SELECT, INSERT", ("alert_events",)),
        ("SELECT", ("alert_silences",)),
        ("SELECT, INSERT, UPDATE", ("incidents",)),  # grouping, state after members, the quiet sweep
        ("SELECT, INSERT", ("incident_members", "incident_entries")),
    ),
    DASHBOARD: (
        ("SELECT", ("*",)),  # the pages, the live snapshot, the console, sign-in, the audit page
        (f"UPDATE ({', '.join(ALERT_ACTION_COLUMNS)})", ("alerts",)),  # acknowledge, resolve, assign
        ("INSERT", ("alert_events", "alert_outbox", "alert_silences")),  # the trail and notifications of an action
        ("UPDATE (ends_at)", ("alert_silences",)),  # ending a silence early
        (f"UPDATE ({', '.join(INCIDENT_ACTION_COLUMNS)})", ("incidents",)),  # officers' actions; alert changes
        ("INSERT", ("incident_entries",)),  # the timeline of those
        ("INSERT, UPDATE", ("auth_users", "auth_displays")),  # admin, lockout counters, token use
        ("INSERT, UPDATE", ("api_keys",)),  # issue and revoke API keys; their last use
        ("INSERT, UPDATE, DELETE", ("auth_sessions",)),  # sign-in, sign-out, expiry
    ),
    AUDIT_WRITER: (("INSERT", ("audit_log",)),),
}
# Functions a role may call; SECURITY DEFINER ones run as their owner (storage/migrations/0008_least_privilege.sql).
FUNCTION_GRANTS = {INGEST: ("drop_expired_chunks(text, interval)",)}

_ROLES_LOCK = zlib.crc32(b"ioc-roles")


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (so the clear text never reaches the server,
    its logs or ``pg_stat_activity``). ASCII passwords are their own SASLprep form."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}$"
            f"{b64(hashlib.sha256(client_key).digest()).decode()}:{b64(server_key).decode()}")  # fmt: skip


def may_manage_roles(conn: psycopg.Connection) -> bool:
    """Whether the connected user can create roles (a superuser, or CREATEROLE)."""
    row = conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def existing_roles(conn: psycopg.Connection) -> set[str]:
    """Which of the IOC's roles exist in this cluster."""
    names = list(LOGIN_ROLES + GROUP_ROLES)
    return {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (names,))}


def ensure_roles(conn: psycopg.Connection, passwords: Mapping[str, str | None]) -> None:
    """Create the roles that are missing and set the given passwords (idempotent; an administrator's connection).

    A role without a password in ``passwords`` keeps the one it has (a new one gets none: it can then sign in only
    where pg_hba trusts, as in development). The owner may create schemas in this database."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ROLES_LOCK,))  # concurrent `up`s and migrators
        have = existing_roles(conn)
        for role in GROUP_ROLES + LOGIN_ROLES:
            login = sql.SQL("LOGIN" if role in LOGIN_ROLES else "NOLOGIN")
            verb = "ALTER" if role in have else "CREATE"
            conn.execute(sql.SQL(verb + " ROLE {} {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
                         .format(sql.Identifier(role), login))  # fmt: skip
            if passwords.get(role):
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(scram_verifier(passwords[role]))))  # fmt: skip
        for granted, member in MEMBERSHIPS:
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(granted), sql.Identifier(member)))
        conn.execute(sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(
            sql.Identifier(conn.info.dbname), sql.Identifier(OWNER)))  # fmt: skip


def become_owner(conn: psycopg.Connection, schema: str) -> str:
    """``SET LOCAL ROLE`` to whoever owns (or is to own) ``schema``; returns the role migrations run as.

    An existing schema keeps its owner (a deployment migrated before these roles existed stays as it was); a
    new one is created by ``ioc_owner`` when that role exists and may create schemas here."""
    row = conn.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    if row:
        target = row[0].strip('"')
    else:
        ready = conn.execute("SELECT has_database_privilege(%s, current_database(), 'CREATE')"
                             " FROM pg_roles WHERE rolname = %s", (OWNER, OWNER)).fetchone()  # fmt: skip
        target = OWNER if ready and ready[0] else conn.info.pgconn.user.decode()
    current = conn.execute("SELECT current_user").fetchone()[0]
    if target != current:
        allowed = conn.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (target,)).fetchone()
        if allowed and allowed[0]:
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(target)))
            return target
        log.warning("migrating schema %s as %s: it belongs to %s, whom %s may not become", schema, current, target,
                    current)  # fmt: skip
    return current


def grant(conn: psycopg.Connection, schema: str) -> list[str]:
    """Set every existing IOC role's privileges in ``schema`` to exactly ``GRANTS``; returns the roles granted."""
    roles = sorted(existing_roles(conn) - {OWNER})
    if not roles:
        log.info("no IOC roles in this cluster (`ioc services up` or an administrator's `ioc migrate` makes them)")
        return []
    tables = [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v') ORDER BY 1", (schema,))]  # fmt: skip
    ident = sql.Identifier
    for role in roles:
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(ident(schema), ident(role)))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(role)))
        for privileges, names in GRANTS.get(role, ()):
            for table in tables if names == ("*",) else names:
                conn.execute(sql.SQL("GRANT {} ON {}.{} TO {}").format(
                    sql.SQL(privileges), ident(schema), ident(table), ident(role)))  # fmt: skip
        for function in FUNCTION_GRANTS.get(role, ()):
            conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {}.{} TO {}").format(
                ident(schema), sql.SQL(function), ident(role)))  # fmt: skip
    return roles
