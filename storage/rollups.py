"""Per-minute and per-hour rollups, computed from a batch of new events (pure) and merged by ``EventStore``.

A rollup row is a key (its dimensions, then the bucket) and measures that combine exactly: counts and sums add,
minima and maxima take the extreme. That is what lets every ingest transaction fold its batch into the tables,
and lets the hour rollup be built from the minute groups instead of from the events again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.complaints import SATISFIED_MIN, ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading

Groups = dict[tuple, list]


@dataclass(frozen=True)
class RollupTable:
    """A rollup table's layout: key columns (bucket last) and measures by how they combine."""

    name: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    mins: tuple[str, ...] = ()
    maxs: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.keys + self.sums + self.mins + self.maxs

    def merge_sql(self, staging: str) -> str:
        """Upsert from a staging table; rows go in key order so concurrent workers lock in the same order."""
        sets = [f"{c} = {self.name}.{c} + excluded.{c}" for c in self.sums]
        sets += [f"{c} = least({self.name}.{c}, excluded.{c})" for c in self.mins]
        sets += [f"{c} = greatest({self.name}.{c}, excluded.{c})" for c in self.maxs]
        cols = ", ".join(self.columns)
        keys = ", ".join(self.keys)
        return (
            f"INSERT INTO {self.name} ({cols}) SELECT {cols} FROM {staging} ORDER BY {keys} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {', '.join(sets)}"
        )


def _pair(base: str, dims: tuple[str, ...], sums: tuple[str, ...], mins=(), maxs=()) -> tuple[RollupTable, ...]:
    keys = (*dims, "bucket")
    return tuple(RollupTable(f"{base}_{grain}", keys, sums, mins, maxs) for grain in ("1m", "1h"))


SENSOR_ROLLUPS = _pair(
    "sensor_rollup", ("district", "kind", "metric"), ("readings", "value_sum"), ("value_min",), ("value_max",)
)
COMPLAINT_ROLLUPS = _pair(
    "complaint_rollup",
    ("district", "category", "status"),
    ("events", "satisfaction_n", "satisfaction_sum", "satisfied_n"),
)
DATACENTER_ROLLUPS = _pair(
    "datacenter_rollup",
    ("site",),
    ("samples", "facility_kw_sum", "it_kw_sum", "inlet_temp_n", "inlet_temp_sum"),
    (),
    ("inlet_temp_max",),
)


def minute(ts: datetime) -> datetime:
    """The minute bucket holding ``ts``."""
    return ts.replace(second=0, microsecond=0)


def sensor_minutes(readings: Iterable[SensorReading]) -> Groups:
    """(district, kind, metric, minute) → [readings, sum, min, max]."""
    groups: Groups = {}
    buckets: dict[int, datetime] = {}  # epoch minute → its datetime: a batch spans a few minutes
    for r in readings:
        ts = r.ts
        epoch_minute = int(ts.timestamp()) // 60
        bucket = buckets.get(epoch_minute)
        if bucket is None:
            bucket = buckets[epoch_minute] = datetime.fromtimestamp(epoch_minute * 60, UTC)
        key = (r.district, r.kind, r.metric, bucket)
        acc = groups.get(key)
        value = r.value
        if acc is None:
            groups[key] = [1, value, value, value]
        else:
            acc[0] += 1
            acc[1] += value
            if value < acc[2]:
                acc[2] = value
            if value > acc[3]:
                acc[3] = value
    return groups


def complaint_minutes(events: Iterable[ComplaintEvent]) -> Groups:
    """(district, category, status, minute) → [events, satisfaction_n, satisfaction_sum, satisfied_n]."""
    groups: Groups = {}
    for e in events:
        key = (e.district, e.category, e.status, minute(e.ts))
        acc = groups.setdefault(key, [0, 0, 0, 0])
        acc[0] += 1
        if e.satisfaction is not None:
            acc[1] += 1
            acc[2] += e.satisfaction
            acc[3] += e.satisfaction >= SATISFIED_MIN
    return groups


def datacenter_minutes(samples: Iterable[PowerSample]) -> Groups:
    """(site, minute) → [samples, facility_kw_sum, it_kw_sum, inlet_n, inlet_sum, inlet_max]."""
    groups: Groups = {}
    for s in samples:
        acc = groups.setdefault((s.site, minute(s.ts)), [0, 0.0, 0.0, 0, 0.0, None])
        acc[0] += 1
        acc[1] += s.facility_kw
        acc[2] += s.it_kw
        if s.inlet_temp_c is not None:
            acc[3] += 1
            acc[4] += s.inlet_temp_c
            acc[5] = s.inlet_temp_c if acc[5] is None else max(acc[5], s.inlet_temp_c)
    return groups


def to_hours(minutes: Groups, table: RollupTable) -> Groups:
    """Fold minute groups into hour groups, combining each measure as ``table`` says."""
    n_sums, n_mins = len(table.sums), len(table.mins)
    hours: Groups = {}
    for key, measures in minutes.items():
        hour_key = (*key[:-1], key[-1].replace(minute=0))
        acc = hours.get(hour_key)
        if acc is None:
            hours[hour_key] = list(measures)
            continue
        for i, value in enumerate(measures):
            if value is None:
                continue
            if acc[i] is None:
                acc[i] = value
            elif i < n_sums:
                acc[i] += value
            elif i < n_sums + n_mins:
                acc[i] = min(acc[i], value)
            else:
                acc[i] = max(acc[i], value)
    return hours


def rows(groups: Groups) -> list[tuple]:
    """Groups as table rows: key columns, then measures."""
    return [(*key, *measures) for key, measures in groups.items()]
