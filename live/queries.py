"""The handful of SQL queries behind one live snapshot: state tables and rollups only, parameterised.

Every query reads either a small state table (``sensor_latest``, ``datacenter_latest``), a partial index of
``complaints``, or a short time range of a rollup, so one snapshot costs a few milliseconds however long
the city has been running. "Same time yesterday" windows are the same windows shifted by one day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from cities.pack import DEFAULT_CITY, load_city
from cities.schema import Kpi
from live.sla import sla_parameters

RATE_WINDOW = timedelta(minutes=5)
PUE_WINDOW = timedelta(minutes=5)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Windows:
    """The instants a snapshot compares: now, the same time yesterday, and the city-local day starts."""

    now: datetime
    today: datetime
    yesterday: datetime

    @classmethod
    def at(cls, now: datetime, timezone: str) -> Windows:
        local = now.astimezone(ZoneInfo(timezone))
        today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(now=now, today=today, yesterday=(today - DAY))

    @property
    def same_time_yesterday(self) -> datetime:
        return self.now - DAY


@dataclass
class CityFacts:
    """Raw answers of the snapshot queries, before any judgement or formatting."""

    windows: Windows
    sensors_total: int = 0  # devices in current state; more than carried in ``sensors`` past the bound
    # device_id, metric, kind, district, lat, lon, value, unit, ts_ms (epoch milliseconds), by device and metric
    sensors: list[tuple] = field(default_factory=list)
    devices_seen_yesterday: int = 0
    readings_now: int = 0
    readings_yesterday: int = 0
    complaint_events: list[tuple] = field(default_factory=list)  # status, is_today, events, sat_n, satisfied_n
    complaints_newest: datetime | None = None
    open_now: int = 0
    open_yesterday: int = 0
    closures: dict[bool, tuple] = field(default_factory=dict)  # is_today → (closed, within_sla, median_s)
    energy: dict[str, float | None] = field(default_factory=dict)  # window → facility/it sums
    sites: list[tuple] = field(default_factory=list)  # site, ts, facility_kw, it_kw, inlet_temp_c
    alerts_table: bool = False  # the alerting migration is applied
    alerts_ever: bool = False  # an alert was ever recorded
    open_alerts: list[tuple] = field(default_factory=list)  # id, severity, rule, subject, summary, status, fired_at,
    #                                                         value, assignee, lat, lon (lat/lon of a device subject),
    #                                       predicted, forecast_at, expected_at, expected_earliest, expected_latest
    alerts_by_severity: dict[str, int] = field(default_factory=dict)


def read_city(
    conn: psycopg.Connection, windows: Windows, max_sensors: int = 50_000, kpi: Kpi | None = None
) -> CityFacts:
    """Run every snapshot query in one read-only transaction; at most ``max_sensors`` devices are carried.

    ``kpi``: the city's targets (its SLA per category); None, the default city's."""
    facts = CityFacts(windows=windows)
    kpi = kpi or load_city(DEFAULT_CITY).file.kpi
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        _sensors(cur, facts, max_sensors)
        _readings_rate(cur, facts)
        _complaints(cur, facts, kpi)
        _datacenters(cur, facts)
        _alerts(cur, facts)
    return facts


def _sensors(cur: psycopg.Cursor, facts: CityFacts, max_sensors: int) -> None:
    # Epoch milliseconds and the order come from PostgreSQL: in Python they were most of a 50,000-sensor build.
    # Bounded by rows (a device has a few metrics); past the bound the last, maybe partial, device is dropped and
    # the devices are counted, so a producer inventing ids cannot make every viewer's snapshot huge.
    limit = max_sensors * METRICS_PER_DEVICE
    cur.execute("""
        SELECT device_id, metric, kind, district, lat, lon, value, unit, (extract(epoch FROM ts) * 1000)::int8
        FROM sensor_latest ORDER BY device_id, metric LIMIT %(limit)s
    """, {"limit": limit})  # fmt: skip
    rows = cur.fetchall()
    read_all = len(rows) < limit
    devices = len({row[0] for row in rows})
    facts.sensors = rows if read_all and devices <= max_sensors else _first_devices(rows, max_sensors)
    if read_all:
        facts.sensors_total = devices
    else:
        cur.execute("SELECT count(*) FROM (SELECT DISTINCT device_id FROM sensor_latest) d")
        facts.sensors_total = cur.fetchone()[0]
    # One short probe of the (device, metric, time) index per device and metric known now, instead of a scan of
    # yesterday's chunk; probing by device alone would walk all of the device's day in that index.
    cur.execute("""
        SELECT count(DISTINCT l.device_id) FROM sensor_latest l
        WHERE EXISTS (SELECT 1 FROM sensor_readings r WHERE r.device_id = l.device_id AND r.metric = l.metric
                      AND r.ts > %(at)s - interval '10 minutes' AND r.ts <= %(at)s)
    """, {"at": facts.windows.same_time_yesterday})  # fmt: skip
    facts.devices_seen_yesterday = cur.fetchone()[0]


METRICS_PER_DEVICE = 4  # rows read per device carried: the city's devices report one to three metrics


def _first_devices(rows: list[tuple], devices: int) -> list[tuple]:
    """The rows (ordered by device) of the first ``devices`` devices, none of them cut short."""
    kept: list[tuple] = []
    seen = 0
    last = None
    for row in rows:
        if row[0] != last:
            seen, last = seen + 1, row[0]
            if seen > devices:
                break
        kept.append(row)
    if len(kept) == len(rows):  # the rows ran out inside the last device: it may be incomplete
        kept = [row for row in kept if row[0] != last]
    return kept


def _readings_rate(cur: psycopg.Cursor, facts: CityFacts) -> None:
    now, then = facts.windows.now, facts.windows.same_time_yesterday
    cur.execute("""
        SELECT (SELECT coalesce(sum(readings), 0) FROM sensor_rollup_1m
                WHERE bucket > %(now)s - %(w)s AND bucket <= %(now)s),
               (SELECT coalesce(sum(readings), 0) FROM sensor_rollup_1m
                WHERE bucket > %(then)s - %(w)s AND bucket <= %(then)s)
    """, {"now": now, "then": then, "w": RATE_WINDOW})  # fmt: skip
    facts.readings_now, facts.readings_yesterday = (int(v) for v in cur.fetchone())


def _complaints(cur: psycopg.Cursor, facts: CityFacts, kpi: Kpi) -> None:
    w = facts.windows
    span = {"now": w.now, "then": w.same_time_yesterday, "today": w.today, "yday": w.yesterday}
    cur.execute("""
        SELECT status, bucket >= %(today)s, sum(events), sum(satisfaction_n), sum(satisfied_n), max(bucket)
        FROM complaint_rollup_1m
        WHERE (bucket >= %(today)s AND bucket <= %(now)s) OR (bucket >= %(yday)s AND bucket <= %(then)s)
        GROUP BY 1, 2
    """, span)  # fmt: skip
    rows = cur.fetchall()
    facts.complaint_events = [row[:5] for row in rows]
    facts.complaints_newest = max((row[5] for row in rows), default=None)
    cur.execute("""
        SELECT (SELECT count(*) FROM complaints WHERE status <> 'closed'),
               (SELECT count(*) FROM complaints WHERE status <> 'closed' AND opened_at <= %(then)s)
             + (SELECT count(*) FROM complaints
                WHERE status = 'closed' AND closed_at > %(then)s AND opened_at <= %(then)s)
    """, span)  # fmt: skip
    facts.open_now, facts.open_yesterday = cur.fetchone()
    cur.execute("""
        WITH sla(category, hours) AS (SELECT * FROM unnest(%(cats)s::text[], %(hours)s::float8[]))
        SELECT c.closed_at >= %(today)s, count(*),
               count(*) FILTER (WHERE c.closed_at - c.opened_at
                                      <= make_interval(secs => coalesce(s.hours, %(default)s) * 3600)),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.closed_at - c.opened_at))
        FROM complaints c LEFT JOIN sla s USING (category)
        WHERE c.status = 'closed' AND c.closed_at <= %(now)s
          AND (c.closed_at >= %(today)s OR (c.closed_at >= %(yday)s AND c.closed_at <= %(then)s))
        GROUP BY 1
    """, span | sla_parameters(kpi))  # fmt: skip
    facts.closures = {row[0]: (row[1], row[2], row[3]) for row in cur.fetchall()}


def _datacenters(cur: psycopg.Cursor, facts: CityFacts) -> None:
    now, then = facts.windows.now, facts.windows.same_time_yesterday
    cur.execute("""
        SELECT sum(facility_kw_sum) FILTER (WHERE bucket > %(now)s - %(w)s),
               sum(it_kw_sum)       FILTER (WHERE bucket > %(now)s - %(w)s),
               sum(facility_kw_sum) FILTER (WHERE bucket > %(then)s - %(w)s AND bucket <= %(then)s),
               sum(it_kw_sum)       FILTER (WHERE bucket > %(then)s - %(w)s AND bucket <= %(then)s),
               sum(facility_kw_sum) FILTER (WHERE bucket > %(then)s),
               sum(it_kw_sum)       FILTER (WHERE bucket > %(then)s),
               sum(facility_kw_sum) FILTER (WHERE bucket <= %(then)s),
               sum(it_kw_sum)       FILTER (WHERE bucket <= %(then)s)
        FROM datacenter_rollup_1m WHERE bucket > %(now)s - interval '2 days' AND bucket <= %(now)s
    """, {"now": now, "then": then, "w": PUE_WINDOW})  # fmt: skip
    names = ("now_fac", "now_it", "then_fac", "then_it", "day_fac", "day_it", "prevday_fac", "prevday_it")
    facts.energy = dict(zip(names, cur.fetchone(), strict=True))
    cur.execute("SELECT site, ts, facility_kw, it_kw, inlet_temp_c FROM datacenter_latest ORDER BY site")
    facts.sites = cur.fetchall()


OPEN_ALERTS_SHOWN = 200  # the newest open alerts carried in the snapshot; the counts cover all of them


def _alerts(cur: psycopg.Cursor, facts: CityFacts) -> None:
    # The console's tables may not exist yet (alerting not migrated): say so, rather than fail the snapshot.
    cur.execute("SELECT to_regclass('alerts') IS NOT NULL")
    facts.alerts_table = cur.fetchone()[0]
    if not facts.alerts_table:
        return
    cur.execute("SELECT EXISTS (SELECT 1 FROM alerts)")
    facts.alerts_ever = cur.fetchone()[0]
    cur.execute("SELECT severity, count(*) FROM alerts WHERE status <> 'resolved' GROUP BY 1")
    facts.alerts_by_severity = dict(cur.fetchall())
    # A device subject is placed at the device's last position; district subjects are placed by the caller.
    cur.execute("""
        SELECT a.id, a.severity, a.rule_id, a.subject, a.summary, a.status, a.fired_at, a.value, a.assignee,
               p.lat, p.lon, a.predicted, a.forecast_at, a.expected_at, a.expected_earliest, a.expected_latest
        FROM alerts a
        LEFT JOIN LATERAL (SELECT lat, lon FROM sensor_latest s WHERE s.device_id = a.subject LIMIT 1) p ON true
        WHERE a.status <> 'resolved'
        ORDER BY array_position(ARRAY['critical','warning','info'], a.severity), a.fired_at DESC
        LIMIT %(n)s
    """, {"n": OPEN_ALERTS_SHOWN})  # fmt: skip
    facts.open_alerts = cur.fetchall()
