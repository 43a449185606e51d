"""A schema and stream names of their own for a test (or a session), removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

import bootstrap
from settings import Settings
from storage.migrate import migrate


@contextmanager
def isolated(base: Settings, **overrides: object) -> Iterator[Settings]:
    """``base`` with a fresh, migrated schema and fresh stream and group names; both are dropped on exit."""
    tag = uuid.uuid4().hex[:10]
    settings = base.model_copy(update={
        "db_schema": f"t_{tag}", "stream_iot": f"t{tag}:iot", "stream_complaints": f"t{tag}:complaints",
        "stream_datacenter": f"t{tag}:datacenter", "stream_deadletter": f"t{tag}:deadletter",
        "consumer_group": f"t{tag}-ingest", **overrides,
    })  # fmt: skip
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    try:
        yield settings
    finally:
        client = bootstrap.redis_client(settings)
        for key in client.scan_iter(match=f"t{tag}*"):
            client.delete(key)
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))
