"""Versioned, idempotent migrations: `storage/migrations/NNNN_name.sql`, applied once each, in order.

A transaction-level advisory lock makes concurrent migrators (several containers starting at once) take turns;
the second finds everything applied and does nothing.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from storage import policies, roles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """The migrations shipped with the code, in version order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(int(version), rest.removesuffix(".sql"), entry.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {sorted(versions)}")
    return sorted(found, key=lambda m: m.version)


def pending(applied: set[int], migrations: list[Migration]) -> list[Migration]:
    """The migrations not yet applied, in order."""
    return [m for m in migrations if m.version not in applied]


def migrate(database_url: str, schema: str, retention: policies.Retention,
            passwords: Mapping[str, str | None] | None = None) -> list[str]:  # fmt: skip
    """Bring ``schema`` up to date; returns the names of the migrations applied now.

    Connected as an administrator, it first creates the IOC's roles (``storage.roles``; ``passwords``: role →
    password, None keeps the role's own). Migrations run as the schema's owner, and every role's privileges are
    set afresh at the end."""
    applied_now: list[str] = []
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        if passwords is not None and roles.may_manage_roles(conn):
            roles.ensure_roles(conn, passwords)
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(schema),))
            owner = roles.become_owner(conn, schema)
            log.debug("migrating schema %s as %s", schema, owner)
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(schema)))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in pending(applied, available_migrations()):
                log.info("applying migration %04d %s to schema %s", migration.version, migration.name, schema)
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied_now.append(f"{migration.version:04d}_{migration.name}")
            policies.apply(conn, retention)
            roles.grant(conn, schema)
    return applied_now


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"ioc-migrate:{schema}".encode())
