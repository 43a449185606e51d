"""Retention (and, where the licence allows, compression) of the hypertables.

On the Apache build of TimescaleDB `drop_chunks` works but the background policies are refused, so the
ingest workers call ``drop_expired`` from their housekeeping. Where `timescaledb.license` is 'timescale'
(the official Docker image) the same ages are registered as retention policies and raw chunks older than a
day are compressed, and ``drop_expired`` leaves the work to those policies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from storage.db import has_community_features

log = logging.getLogger(__name__)

RAW_TABLES = ("sensor_readings", "complaint_events", "datacenter_samples")
MINUTE_TABLES = ("sensor_rollup_1m", "complaint_rollup_1m", "datacenter_rollup_1m")
HOUR_TABLES = ("sensor_rollup_1h", "complaint_rollup_1h", "datacenter_rollup_1h")
# Written by the alert evaluator for per-device anomaly rules (migration 0016), read back at most 90 days
DEVICE_HOUR_TABLES = ("device_rollup_1h",)
COMPRESS_SEGMENT_BY = {"sensor_readings": "device_id", "complaint_events": "request_id", "datacenter_samples": "site"}


@dataclass(frozen=True)
class Retention:
    """How long each class of table keeps its rows."""

    raw: timedelta
    minute: timedelta
    hour: timedelta
    device_hour: timedelta = timedelta(days=90)

    def by_table(self) -> dict[str, timedelta]:
        """Every hypertable with the age past which its chunks go."""
        ages = {t: self.raw for t in RAW_TABLES}
        ages.update({t: self.minute for t in MINUTE_TABLES})
        ages.update({t: self.hour for t in HOUR_TABLES})
        ages.update({t: self.device_hour for t in DEVICE_HOUR_TABLES})
        return ages


def apply(conn: psycopg.Connection, retention: Retention) -> None:
    """Register policies where the licence has them (idempotent); a no-op on the Apache build."""
    if not has_community_features(conn):
        log.info("TimescaleDB Apache build: retention runs from the ingest housekeeping (drop_chunks)")
        return
    for table, age in retention.by_table().items():
        conn.execute("SELECT remove_retention_policy(%s, if_exists => true)", (table,))
        conn.execute("SELECT add_retention_policy(%s, %s::interval)", (table, age))
    for table, segment_by in COMPRESS_SEGMENT_BY.items():
        conn.execute(
            f"ALTER TABLE {table} SET (timescaledb.compress, timescaledb.compress_segmentby = '{segment_by}')"
        )
        conn.execute("SELECT add_compression_policy(%s, INTERVAL '1 day', if_not_exists => true)", (table,))


def drop_expired(conn: psycopg.Connection, retention: Retention) -> int:
    """Drop chunks past their retention; returns how many went. Does nothing where policies do the job."""
    if has_community_features(conn):
        return 0
    dropped = 0
    for table, age in retention.by_table().items():
        # Through the owner's function: the ingest role that calls this owns no table (storage/roles.py).
        row = conn.execute("SELECT drop_expired_chunks(%s, %s::interval)", (table, age)).fetchone()
        dropped += row[0] if row else 0
    conn.commit()
    if dropped:
        log.info("retention dropped %d chunks", dropped)
    return dropped
