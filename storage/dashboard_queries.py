"""The dashboard's read side: the few queries the map, complaints, data-centre and history pages ask.

Every query is parameterised; the only thing composed into SQL is a table name taken from the fixed
``ROLLUP_TABLES`` below. Time ranges up to ``MINUTE_ROLLUP_MAX`` read the minute rollups, longer ones the hour
rollups, so no page ever scans raw events for a city-wide figure. Rows come back as plain dicts, which keeps an
in-memory fake of this class a one-screen affair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Grain = Literal["1m", "1h"]
ConnectionFactory = Callable[[], AbstractContextManager[psycopg.Connection]]

MINUTE_ROLLUP_MAX = timedelta(hours=6)
ROLLUP_TABLES: dict[tuple[str, Grain], str] = {
    (family, grain): f"{family}_rollup_{grain}"
    for family in ("sensor", "complaint", "datacenter")
    for grain in ("1m", "1h")
}
# (longest range, bucket width shown): a chart keeps to roughly 24–170 points whatever the range.
STEPS: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(hours=1), timedelta(minutes=1)),
    (timedelta(hours=6), timedelta(minutes=5)),
    (timedelta(days=7), timedelta(hours=1)),
)
LONG_STEP = timedelta(hours=6)
QUEUE_LIMIT = 5000
SENSORS_LIMIT = 50_000  # device-metric rows; the live snapshot's own bound is IOC_LIVE_MAX_SENSORS


def rollup_grain(span: timedelta) -> Grain:
    """Minute rollups for ranges up to six hours, hour rollups beyond."""
    return "1m" if span <= MINUTE_ROLLUP_MAX else "1h"


def bucket_step(span: timedelta) -> timedelta:
    """The bucket width a chart of ``span`` is drawn at (never finer than the rollup it reads)."""
    for longest, step in STEPS:
        if span <= longest:
            return step
    return LONG_STEP


def rollup_table(family: str, span: timedelta) -> sql.Identifier:
    """The rollup table of ``family`` (sensor, complaint, datacenter) that a query over ``span`` reads."""
    return sql.Identifier(ROLLUP_TABLES[(family, rollup_grain(span))])


def _array(values: Sequence[str] | None) -> list[str] | None:
    """``None`` or empty means "no filter"; SQL reads that as a NULL array."""
    return list(values) if values else None


class DashboardQueries:
    """Read-only queries over a connection factory (``pool.connection`` in production)."""

    def __init__(self, connection: ConnectionFactory) -> None:
        self._connection = connection

    def _rows(self, query: sql.Composable | str, params: dict) -> list[dict]:
        # Sums of bigint are numeric in PostgreSQL; every query casts them back so rows hold int and float.
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def first_minute(self, family: str) -> datetime | None:
        """The oldest minute bucket of ``family`` (sensor, complaint, datacenter): when its data began, as far
        as the minute rollups still remember. None when there is no data."""
        query = sql.SQL("SELECT min(bucket) AS first FROM {}").format(
            sql.Identifier(ROLLUP_TABLES[(family, "1m")])
        )
        return self._rows(query, {})[0]["first"]

    # --- sensors -------------------------------------------------------------------------------------
    def sensor_latest(self, kinds: Sequence[str] | None = None, districts: Sequence[str] | None = None,
                      limit: int = SENSORS_LIMIT, after: str | None = None) -> list[dict]:  # fmt: skip
        """Sensors' latest value per metric (device_id, metric, kind, unit, value, ts, lat, lon, district), at
        most ``limit`` rows by device id, from the first device after ``after`` (the map reads this only until the
        live snapshot exists; the open-data API pages through it)."""
        return self._rows(
            "SELECT device_id, metric, kind, unit, value, ts, lat, lon, district FROM sensor_latest "
            "WHERE (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s)) "
            "AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s)) "
            "AND (%(after)s::text IS NULL OR device_id > %(after)s) "
            "ORDER BY device_id, metric LIMIT %(limit)s",
            {"kinds": _array(kinds), "districts": _array(districts), "limit": limit, "after": after},
        )

    def sensor_metrics(self) -> list[dict]:
        """The (kind, metric, unit) triples sensors currently report, for pickers."""
        return self._rows("SELECT DISTINCT kind, metric, unit FROM sensor_latest ORDER BY kind, metric LIMIT 500", {})

    def device_readings(self, device_id: str, since: datetime, until: datetime) -> list[dict]:
        """One device's raw readings (ts, metric, unit, value) in [since, until).

        Read through the (device_id, metric, ts) index: with the metric open, the device's rows in the day chunks
        the range touches are walked, at most about twice what the range holds for the 24 h the map asks."""
        return self._rows(
            "SELECT ts, metric, unit, value FROM sensor_readings "
            "WHERE device_id = %(device)s AND ts >= %(since)s AND ts < %(until)s ORDER BY ts",
            {"device": device_id, "since": since, "until": until},
        )

    def device_series(self, device_id: str, metric: str, since: datetime, until: datetime,
                      step: timedelta | None = None) -> list[dict]:  # fmt: skip
        """One device's metric bucketed at ``step`` (default ``bucket_step``): bucket, readings, mean, low, high."""
        return self._rows(
            "SELECT time_bucket(%(step)s, ts) AS bucket, count(*) AS readings, avg(value) AS mean, "
            "min(value) AS low, max(value) AS high FROM sensor_readings "
            "WHERE device_id = %(device)s AND metric = %(metric)s AND ts >= %(since)s AND ts < %(until)s "
            "GROUP BY 1 ORDER BY 1",
            {"step": step or bucket_step(until - since), "device": device_id, "metric": metric, "since": since,
             "until": until},
        )  # fmt: skip

    def district_series(
        self, metric: str, since: datetime, until: datetime, districts: Sequence[str] | None = None,
        step: timedelta | None = None,
    ) -> list[dict]:
        """A metric per district from the rollups at ``step`` (default ``bucket_step``; never finer than the rollup
        ``rollup_grain`` picks): bucket, district, readings, mean, low, high."""
        query = sql.SQL(
            "SELECT time_bucket(%(step)s, bucket) AS bucket, district, sum(readings)::bigint AS readings, "
            "sum(value_sum) / sum(readings)::float8 AS mean, min(value_min) AS low, max(value_max) AS high FROM {} "
            "WHERE metric = %(metric)s AND bucket >= %(since)s AND bucket < %(until)s "
            "AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s)) "
            "GROUP BY 1, 2 ORDER BY 2, 1"
        ).format(rollup_table("sensor", until - since))
        return self._rows(query, {"step": step or bucket_step(until - since), "metric": metric, "since": since,
                                  "until": until, "districts": _array(districts)})  # fmt: skip

    # --- complaints ----------------------------------------------------------------------------------
    def open_complaints_by_district(self) -> dict[str, int]:
        """District → requests not yet closed."""
        rows = self._rows(
            "SELECT district, count(*) AS open FROM complaints WHERE status <> 'closed' GROUP BY district", {}
        )
        return {row["district"]: row["open"] for row in rows}

    def open_complaints(self, limit: int = QUEUE_LIMIT, *, with_text: bool = False) -> list[dict]:
        """The queue: requests not yet closed, oldest first (through the partial index on opened_at).

        ``with_text`` adds the citizen's description: personal data, read only for those allowed to see it.
        """
        text = "description, " if with_text else ""
        return self._rows(
            f"SELECT request_id, status, category, district, channel, {text}opened_at, in_progress_at, "
            "updated_at FROM complaints WHERE status <> 'closed' ORDER BY opened_at LIMIT %(limit)s",
            {"limit": limit},
        )

    def complaint_volume(self, since: datetime, until: datetime) -> list[dict]:
        """New requests (``open`` events) per bucket and category: bucket, category, requests."""
        query = sql.SQL(
            "SELECT time_bucket(%(step)s, bucket) AS bucket, category, sum(events)::bigint AS requests FROM {} "
            "WHERE status = 'open' AND bucket >= %(since)s AND bucket < %(until)s GROUP BY 1, 2 ORDER BY 1, 2"
        ).format(rollup_table("complaint", until - since))
        return self._rows(query, {"step": bucket_step(until - since), "since": since, "until": until})

    def complaints_by_district(self, since: datetime, until: datetime) -> dict[str, int]:
        """District → new requests in [since, until)."""
        query = sql.SQL(
            "SELECT district, sum(events)::bigint AS requests FROM {} "
            "WHERE status = 'open' AND bucket >= %(since)s AND bucket < %(until)s GROUP BY 1"
        ).format(rollup_table("complaint", until - since))
        rows = self._rows(query, {"since": since, "until": until})
        return {row["district"]: int(row["requests"]) for row in rows}

    def sla_by_category(
        self, since: datetime, until: datetime, sla_hours: dict[str, float], default_hours: float
    ) -> list[dict]:
        """Per category, requests closed in [since, until) and how many of them within their SLA hours."""
        return self._rows(
            "SELECT c.category, count(*) AS closed, coalesce(sla.hours, %(default)s) AS sla_hours, "
            "count(*) FILTER (WHERE c.closed_at - c.opened_at <= make_interval(secs => "
            "coalesce(sla.hours, %(default)s) * 3600)) AS within_sla "
            "FROM complaints c LEFT JOIN unnest(%(categories)s::text[], %(hours)s::float8[]) AS sla(category, hours) "
            "ON sla.category = c.category "
            "WHERE c.status = 'closed' AND c.closed_at >= %(since)s AND c.closed_at < %(until)s "
            "GROUP BY c.category, sla.hours ORDER BY c.category",
            {"default": default_hours, "categories": list(sla_hours), "hours": list(sla_hours.values()),
             "since": since, "until": until},
        )  # fmt: skip

    def satisfaction_daily(self, since: datetime, until: datetime, timezone: str) -> list[dict]:
        """Per local day: ratings, their sum and how many were satisfied (rating ≥ 3), from the hour rollup."""
        return self._rows(
            "SELECT time_bucket('1 day'::interval, bucket, %(tz)s) AS day, "
            "sum(satisfaction_n)::bigint AS ratings, sum(satisfaction_sum)::bigint AS rating_sum, "
            "sum(satisfied_n)::bigint AS satisfied FROM complaint_rollup_1h "
            "WHERE status = 'closed' AND bucket >= %(since)s AND bucket < %(until)s GROUP BY 1 ORDER BY 1",
            {"tz": timezone, "since": since, "until": until},
        )

    # --- data centres --------------------------------------------------------------------------------
    def datacenter_series(self, since: datetime, until: datetime) -> list[dict]:
        """Per site and bucket: energy-weighted PUE, mean facility and IT kW, mean and highest inlet °C."""
        query = sql.SQL(
            "SELECT time_bucket(%(step)s, bucket) AS bucket, site, sum(samples)::bigint AS samples, "
            "sum(facility_kw_sum) / nullif(sum(it_kw_sum), 0) AS pue, "
            "sum(facility_kw_sum) / sum(samples)::float8 AS facility_kw, "
            "sum(it_kw_sum) / sum(samples)::float8 AS it_kw, "
            "sum(inlet_temp_sum) / nullif(sum(inlet_temp_n), 0)::float8 AS inlet_temp_c, "
            "max(inlet_temp_max) AS inlet_temp_max FROM {} "
            "WHERE bucket >= %(since)s AND bucket < %(until)s GROUP BY 1, 2 ORDER BY 2, 1"
        ).format(rollup_table("datacenter", until - since))
        return self._rows(query, {"step": bucket_step(until - since), "since": since, "until": until})

    def datacenter_pue(self, since: datetime, until: datetime) -> dict[str, float]:
        """Site → energy-weighted PUE over the whole of [since, until)."""
        query = sql.SQL(
            "SELECT site, sum(facility_kw_sum) / nullif(sum(it_kw_sum), 0) AS pue FROM {} "
            "WHERE bucket >= %(since)s AND bucket < %(until)s GROUP BY site ORDER BY site"
        ).format(rollup_table("datacenter", until - since))
        return {row["site"]: row["pue"] for row in self._rows(query, {"since": since, "until": until})}
