"""``device_rollup_1h`` at the edge: write the evaluator's closed device-hours, load a per-device anomaly rule's
baselines, and back-fill the table once from the raw readings (parameterised SQL; the pure part is
``alerts/device_hours.py``).

- **Writing**: one ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`` per flush, adding sums and counts to
  whatever the hour already holds (a late reading, a leader's partial hour).
- **Loading**: one query per rule, about once an hour, for only the buckets the rule can judge by until the next
  refresh (``hours_wanted``: 3 or 4 local hours of the day × ``baseline_days``), read through the primary key
  (metric, bucket, device). The median and the MAD are computed by the database, so what comes back is one row
  per device and local hour, and what the evaluator keeps is one ``Baseline`` each: a 10,000-device rule over 14
  days reads 420,000–560,000 hourly means in the database and returns 30,000–40,000 rows (1.4–1.7 s here,
  docs/BENCHMARKS.md), where returning the hourly means themselves would be 14 times the rows to Python. More
  than ``MAX_DEVICE_HOURS`` refuses the load (``TooManyDeviceHours``: the rule keeps the baselines it had), it
  never grows memory.
- **Back-fill**: when the table holds nothing for a rule in its ``baseline_days`` (a first deployment), the hourly
  means are computed once from ``sensor_readings`` (kept ``IOC_RETENTION_RAW_DAYS``, 30 by default), for the
  rule's metric, kinds and districts only, up to the hour the evaluator started counting, bounded by a statement
  timeout and a LIMIT. ``ioc simulate backfill`` writes raw readings, so a simulated city has baselines at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.anomaly import Baselines, LocalHours
from alerts.device_hours import HourMean, baselines_from_summaries, buckets_wanted, hours_wanted
from alerts.rules import Rule

# 100,000 devices × 5 hours of the day: a rule watching more is a different deployment (narrow its `match`)
MAX_DEVICE_HOURS = 500_000
BACKFILL_LIMIT = 5_000_000  # device-hours one back-fill may write: 10,000 devices × 500 hours
BACKFILL_TIMEOUT = "300s"  # the raw readings have no index on metric: past this the rule waits min_history days

UPSERT = (
    "INSERT INTO device_rollup_1h AS t (metric, bucket, device_id, kind, district, readings, value_sum)"
    " SELECT * FROM unnest(%s::text[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::int8[],"
    " %s::float8[])"
    " ON CONFLICT (metric, bucket, device_id) DO UPDATE SET readings = t.readings + excluded.readings,"
    " value_sum = t.value_sum + excluded.value_sum, kind = excluded.kind, district = excluded.district"
)
MATCHERS = (" AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s))"
            " AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s))")  # fmt: skip
# Per device and local hour of the day: the median of the days' hourly means, the median of their distances from
# it (the MAD), and how many days (alerts/anomaly.py says why median and MAD).
SUMMARY = (
    "WITH v AS (SELECT device_id, extract(hour FROM bucket AT TIME ZONE %(zone)s)::int AS hour,"
    " value_sum / readings AS mean FROM device_rollup_1h"
    " WHERE metric = %(metric)s AND bucket = ANY(%(buckets)s) AND bucket >= %(since)s AND bucket < %(until)s"
    " AND readings > 0" + MATCHERS + "),"
    " m AS (SELECT device_id, hour, percentile_cont(0.5) WITHIN GROUP (ORDER BY mean) AS usual, count(*) AS days"
    " FROM v GROUP BY device_id, hour)"
    " SELECT m.device_id, m.hour, m.usual, percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(v.mean - m.usual)),"
    " m.days FROM v JOIN m USING (device_id, hour) GROUP BY m.device_id, m.hour, m.usual, m.days LIMIT %(limit)s"
)
HAS_HISTORY = ("SELECT EXISTS (SELECT 1 FROM device_rollup_1h WHERE metric = %(metric)s AND bucket >= %(since)s"
               " AND bucket < %(until)s" + MATCHERS + ")")  # fmt: skip
BACKFILL = (
    "INSERT INTO device_rollup_1h (metric, bucket, device_id, kind, district, readings, value_sum)"
    " SELECT metric, time_bucket('1 hour', ts), device_id, max(kind), max(district), count(*), sum(value)"
    " FROM sensor_readings WHERE metric = %(metric)s AND ts >= %(since)s AND ts < %(until)s" + MATCHERS +
    " GROUP BY metric, time_bucket('1 hour', ts), device_id LIMIT %(limit)s ON CONFLICT DO NOTHING"
)  # fmt: skip


class TooManyDeviceHours(ValueError):
    """A per-device rule's baselines would pass ``MAX_DEVICE_HOURS``: refused, not loaded."""


def write_hours(conn: psycopg.Connection, hours: Sequence[HourMean]) -> None:
    """Add closed device-hours to the table, in one statement and one transaction."""
    columns = list(zip(*hours, strict=True))
    buckets = [datetime.fromtimestamp(b, UTC) for b in columns[2]]
    with conn.transaction():
        conn.execute("SET LOCAL statement_timeout = '30s'")
        conn.execute(UPSERT, (list(columns[0]), buckets, list(columns[1]), list(columns[3]), list(columns[4]),
                              list(columns[5]), list(columns[6])))  # fmt: skip


def load_device_baselines(conn: psycopg.Connection, rule: Rule, now: datetime, zone: str, ahead_s: float) -> Baselines:
    """The baselines of per-device anomaly ``rule`` at ``now`` (aware) for the hours it may judge until
    ``ahead_s`` from now (the next refresh); raises ``TooManyDeviceHours`` past the cap."""
    hour_of = LocalHours(zone)
    until = now.replace(minute=0, second=0, microsecond=0)
    wanted = hours_wanted(now.timestamp(), rule.window_s, ahead_s, hour_of)
    buckets = [datetime.fromtimestamp(b, UTC) for b in buckets_wanted(until.timestamp(), rule.baseline_days, wanted,
                                                                       hour_of)]  # fmt: skip
    params = _params(rule, until - timedelta(days=rule.baseline_days), until) | {
        "zone": zone,
        "buckets": buckets,
        "limit": MAX_DEVICE_HOURS + 1,
    }
    with conn.transaction():
        # The evaluator waits for this: a stuck database ends the load rather than alerting.
        conn.execute("SET LOCAL statement_timeout = '30s'")
        rows = conn.execute(SUMMARY, params).fetchall()
    if len(rows) > MAX_DEVICE_HOURS:
        raise TooManyDeviceHours(f"rule {rule.id!r}: more than {MAX_DEVICE_HOURS:,} device-hours of baseline; its "
                                 "`match` should name fewer devices (kinds, districts)")  # fmt: skip
    return baselines_from_summaries(rows, hour_of)


def backfill_from_readings(conn: psycopg.Connection, rule: Rule, first_counted: datetime) -> int | None:
    """Hourly means of ``rule``'s devices from the raw readings of its ``baseline_days`` before ``first_counted``
    (the hour the evaluator started counting), if the table has none there; returns the rows written, or None
    when there was history already. A statement timeout (``psycopg.errors.QueryCanceled``) is the caller's."""
    until = first_counted.replace(minute=0, second=0, microsecond=0)
    params = _params(rule, until - timedelta(days=rule.baseline_days), until) | {"limit": BACKFILL_LIMIT}
    with conn.transaction():
        conn.execute(f"SET LOCAL statement_timeout = '{BACKFILL_TIMEOUT}'")
        if conn.execute(HAS_HISTORY, params).fetchone()[0]:
            return None
        return conn.execute(BACKFILL, params).rowcount


def _params(rule: Rule, since: datetime, until: datetime) -> dict:
    kinds, districts = rule.match.get("kind"), rule.match.get("district")
    return {
        "metric": rule.metric,
        "since": since,
        "until": until,
        "kinds": sorted(kinds) if kinds else None,
        "districts": sorted(districts) if districts else None,
    }
