"""Connections to TimescaleDB: every connection works inside the configured schema."""

from __future__ import annotations

import psycopg
from psycopg import sql

TIMESCALE_SCHEMA = "public"


def connect(database_url: str, schema: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A connection whose search_path is ``schema`` (then public, where the timescaledb extension lives)."""
    conn = psycopg.connect(database_url, autocommit=autocommit, connect_timeout=5)
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SET search_path TO {}, {}").format(sql.Identifier(schema), sql.Identifier(TIMESCALE_SCHEMA))
        )
    if not autocommit:
        conn.commit()
    return conn


def timescale_license(conn: psycopg.Connection) -> str:
    """'apache' (hypertables, time_bucket, drop_chunks) or 'timescale' (also policies and compression)."""
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('timescaledb.license', true)")
        row = cur.fetchone()
    return (row[0] if row and row[0] else "apache").lower()


def has_community_features(conn: psycopg.Connection) -> bool:
    """True where retention/compression policies and continuous aggregates are allowed."""
    return timescale_license(conn) == "timescale"
