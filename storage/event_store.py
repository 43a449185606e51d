"""Writes a batch of parsed events to TimescaleDB: raw rows, current state and rollups in ONE transaction.

Fresh entries (read with ``>``) were never delivered before, so they are COPYed straight into the hypertables.
Entries that may have been committed already (claimed from a dead worker, or re-read after a crash) go through a
staging table and ``INSERT … ON CONFLICT DO NOTHING``; only the rows that were really new feed the state and
the rollups, so a redelivery changes nothing. The unique indexes are the final guard (a reading's device, metric
and time; an event's or sample's stream entry id): if a fresh COPY ever meets a duplicate (a stalled worker's
batch was claimed and committed by another, a producer resent a reading), the transaction is retried the careful
way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter

import psycopg
from psycopg import errors

from storage import policies, rollups
from storage.rollups import RollupTable
from streams.complaints import ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading

READING_TYPES = ["timestamptz", "text", "text", "text", "float8", "text", "float8", "float8", "text", "jsonb", "text"]
COMPLAINT_TYPES = [
    "timestamptz", "text", "text", "text", "text", "float8", "float8", "text", "text", "int2", "jsonb", "text",
]  # fmt: skip
SAMPLE_TYPES = ["timestamptz", "text", "float8", "float8", "float8", "float8", "jsonb", "text"]

LATEST_COLUMNS = ("device_id", "metric", "kind", "unit", "value", "ts", "lat", "lon", "district")
_TIME = itemgetter(SensorReading._fields.index("ts"))
_DEVICE_METRIC = itemgetter(SensorReading._fields.index("device_id"), SensorReading._fields.index("metric"))
COMPLAINT_STATE_COLUMNS = (
    "request_id", "status", "category", "district", "lat", "lon", "channel", "description",
    "opened_at", "in_progress_at", "closed_at", "satisfaction", "updated_at", "events",
)  # fmt: skip
SITE_COLUMNS = ("site", "ts", "facility_kw", "it_kw", "inlet_temp_c", "humidity_pct")

_NEWER = "CASE WHEN excluded.updated_at >= c.updated_at THEN excluded.{0} ELSE c.{0} END"
MERGE_COMPLAINTS = (
    f"INSERT INTO complaints AS c ({', '.join(COMPLAINT_STATE_COLUMNS)}) "
    f"SELECT {', '.join(COMPLAINT_STATE_COLUMNS)} FROM stage_complaints ORDER BY request_id "
    "ON CONFLICT (request_id) DO UPDATE SET "
    + ", ".join(f"{c} = {_NEWER.format(c)}" for c in ("status", "category", "district", "lat", "lon", "channel"))
    + ", description = coalesce("
    + _NEWER.format("description")
    + ", c.description)"
    ", opened_at = least(c.opened_at, excluded.opened_at)"
    ", in_progress_at = least(c.in_progress_at, excluded.in_progress_at)"
    ", closed_at = greatest(c.closed_at, excluded.closed_at)"
    ", satisfaction = CASE WHEN excluded.closed_at >= coalesce(c.closed_at, excluded.closed_at)"
    " THEN coalesce(excluded.satisfaction, c.satisfaction) ELSE c.satisfaction END"
    ", updated_at = greatest(c.updated_at, excluded.updated_at)"
    ", events = c.events + excluded.events"
)
MERGE_SENSOR_LATEST = (
    f"INSERT INTO sensor_latest AS s ({', '.join(LATEST_COLUMNS)}) "
    f"SELECT {', '.join(LATEST_COLUMNS)} FROM stage_latest_readings ORDER BY device_id, metric "
    "ON CONFLICT (device_id, metric) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in LATEST_COLUMNS[2:])
    + " WHERE excluded.ts >= s.ts"
)
MERGE_SITE_LATEST = (
    f"INSERT INTO datacenter_latest AS d ({', '.join(SITE_COLUMNS)}) "
    f"SELECT {', '.join(SITE_COLUMNS)} FROM stage_datacenter_latest ORDER BY site "
    "ON CONFLICT (site) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in SITE_COLUMNS[1:])
    + " WHERE excluded.ts >= d.ts"
)
# Whether an identity is already in current state, per stream kind (each an index look-up).
KNOWN_QUERIES = {
    "iot": "SELECT DISTINCT device_id FROM sensor_latest WHERE device_id = ANY(%s)",
    "datacenter": "SELECT site FROM datacenter_latest WHERE site = ANY(%s)",
    "complaints": "SELECT request_id FROM complaints WHERE request_id = ANY(%s)",
}
STAGING = {
    "stage_sensor_readings": "sensor_readings",
    "stage_complaint_events": "complaint_events",
    "stage_datacenter_samples": "datacenter_samples",
    "stage_latest_readings": "sensor_readings",  # the newest reading per device and metric, whole
    "stage_complaints": "complaints",
    "stage_datacenter_latest": "datacenter_latest",
    **{
        f"stage_{t.name}": t.name
        for t in rollups.SENSOR_ROLLUPS + rollups.COMPLAINT_ROLLUPS + rollups.DATACENTER_ROLLUPS
    },
}


@dataclass
class Batch:
    """Parsed events of one read, by stream. ``redelivered`` marks entries that may be committed already."""

    readings: list[SensorReading] = field(default_factory=list)
    complaints: list[ComplaintEvent] = field(default_factory=list)
    samples: list[PowerSample] = field(default_factory=list)
    redelivered: bool = False

    def __len__(self) -> int:
        return len(self.readings) + len(self.complaints) + len(self.samples)


@dataclass(frozen=True)
class WriteResult:
    """How many rows were new and how many were already there (redeliveries)."""

    inserted: int
    duplicates: int


class EventStore:
    """The write side of the event tables, over one connection it owns for its lifetime."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        with conn.transaction(), conn.cursor() as cur:
            for stage, table in STAGING.items():
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                )

    def close(self) -> None:
        """Close the connection (after a failure it may already be broken)."""
        self._conn.close()

    def drop_expired(self, retention: policies.Retention) -> int:
        """Apply retention on the Apache build (see ``storage.policies``)."""
        return policies.drop_expired(self._conn, retention)

    def known(self, kind: str, idents: list[str]) -> set[str]:
        """Which of ``idents`` the state tables already hold (``kind``: 'iot', 'datacenter', 'complaints')."""
        with self._conn.transaction():
            rows = self._conn.execute(KNOWN_QUERIES[kind], (idents,)).fetchall()
        return {row[0] for row in rows}

    def forget_silent(self, before: datetime) -> tuple[int, int]:
        """Drop devices and sites last heard before ``before`` from current state (history stays).

        Returns (device-metric rows, sites) removed."""
        with self._conn.transaction():
            devices = self._conn.execute("DELETE FROM sensor_latest WHERE ts < %s", (before,)).rowcount
            sites = self._conn.execute("DELETE FROM datacenter_latest WHERE ts < %s", (before,)).rowcount
        return devices, sites

    def write(self, batch: Batch) -> WriteResult:
        """Commit the batch; on return every event in it is durably stored exactly once."""
        try:
            return self._write(batch, careful=batch.redelivered)
        except errors.UniqueViolation:
            return self._write(batch, careful=True)

    def _write(self, batch: Batch, *, careful: bool) -> WriteResult:
        with self._conn.transaction(), self._conn.cursor() as cur:
            readings = self._insert(
                cur, "sensor_readings", SensorReading._fields, READING_TYPES, batch.readings, careful
            )
            complaints = self._insert(
                cur, "complaint_events", ComplaintEvent._fields, COMPLAINT_TYPES, batch.complaints, careful
            )
            samples = self._insert(cur, "datacenter_samples", PowerSample._fields, SAMPLE_TYPES, batch.samples, careful)
            if readings:
                self._merge_sensor_latest(cur, latest_readings(readings))
                self._merge_rollups(cur, rollups.SENSOR_ROLLUPS, rollups.sensor_minutes(readings))
            if complaints:
                self._merge(cur, "stage_complaints", COMPLAINT_STATE_COLUMNS, None,
                            complaint_states(complaints), MERGE_COMPLAINTS)  # fmt: skip
                self._merge_rollups(cur, rollups.COMPLAINT_ROLLUPS, rollups.complaint_minutes(complaints))
            if samples:
                self._merge(cur, "stage_datacenter_latest", SITE_COLUMNS, None, latest_samples(samples),
                            MERGE_SITE_LATEST)  # fmt: skip
                self._merge_rollups(cur, rollups.DATACENTER_ROLLUPS, rollups.datacenter_minutes(samples))
        inserted = len(readings) + len(complaints) + len(samples)
        return WriteResult(inserted=inserted, duplicates=len(batch) - inserted)

    def _insert(self, cur, table: str, columns: Sequence[str], types: list[str], records: list, careful: bool) -> list:
        if not records:
            return records
        if not careful:
            _copy(cur, table, columns, types, records)
            return records
        _copy(cur, f"stage_{table}", columns, types, records)
        cur.execute(f"INSERT INTO {table} SELECT * FROM stage_{table} ON CONFLICT DO NOTHING RETURNING source_id")
        fresh = {row[0] for row in cur.fetchall()}
        return [r for r in records if r.source_id in fresh]

    def _merge_sensor_latest(self, cur, newest: list[SensorReading]) -> None:
        self._merge(cur, "stage_latest_readings", SensorReading._fields, READING_TYPES, newest, MERGE_SENSOR_LATEST)

    def _merge(
        self, cur, stage: str, columns: Sequence[str], types: list[str] | None, rows: Iterable, merge_sql: str
    ) -> None:
        _copy(cur, stage, columns, types, rows)
        cur.execute(merge_sql)

    def _merge_rollups(self, cur, tables: tuple[RollupTable, RollupTable], minutes: rollups.Groups) -> None:
        minute_table, hour_table = tables
        for table, groups in ((minute_table, minutes), (hour_table, rollups.to_hours(minutes, minute_table))):
            _copy(cur, f"stage_{table.name}", table.columns, None, rollups.rows(groups))
            cur.execute(table.merge_sql(f"stage_{table.name}"))


def _copy(cur: psycopg.Cursor, table: str, columns: Sequence[str], types: list[str] | None, rows: Iterable) -> None:
    # Binary COPY when we know every column's type (the hot raw tables); text COPY otherwise.
    fmt = "BINARY" if types else "TEXT"
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT {fmt})") as copy:
        if types:
            copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def latest_readings(readings: Iterable[SensorReading]) -> list[SensorReading]:
    """The newest reading per (device, metric); of two with the same time, the later entry."""
    # Sorting (stable, nearly in order already) and letting the last of each key win keeps the loop in C.
    by_time = sorted(readings, key=_TIME)
    return list(dict(zip(map(_DEVICE_METRIC, by_time), by_time, strict=True)).values())


def latest_samples(samples: Iterable[PowerSample]) -> list[tuple]:
    """The newest sample per site, as ``datacenter_latest`` rows."""
    newest: dict[str, PowerSample] = {}
    for s in samples:
        seen = newest.get(s.site)
        if seen is None or s.ts >= seen.ts:
            newest[s.site] = s
    return [(s.site, s.ts, s.facility_kw, s.it_kw, s.inlet_temp_c, s.humidity_pct) for s in newest.values()]


def complaint_states(events: Iterable[ComplaintEvent]) -> list[tuple]:
    """What a batch says about each request, as ``complaints`` rows to merge with the stored state."""
    by_request: dict[str, list[ComplaintEvent]] = {}
    for e in events:
        by_request.setdefault(e.request_id, []).append(e)
    states = []
    for request_id, evs in by_request.items():
        evs.sort(key=lambda e: e.ts)
        latest = evs[-1]
        description = next((e.description for e in reversed(evs) if e.description), None)
        started = [e.ts for e in evs if e.status == "in_progress"]
        closes = [e for e in evs if e.status == "closed"]
        last_close = closes[-1] if closes else None
        states.append((
            request_id, latest.status, latest.category, latest.district, latest.lat, latest.lon, latest.channel,
            description, evs[0].ts, started[0] if started else None,
            last_close.ts if last_close else None, last_close.satisfaction if last_close else None,
            latest.ts, len(evs),
        ))  # fmt: skip
    return states
