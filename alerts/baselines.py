"""Load anomaly rules' baselines from the hourly rollups (the edge of ``alerts/anomaly.py``; parameterised SQL).

One query per anomaly rule, about once an hour: for the rule's metric (and its kind and district matchers), each
district's mean of every hour of the last ``baseline_days`` days before the current hour, from
``sensor_rollup_1h`` (``value_sum / readings``). That is at most districts × 24 × days rows (a few thousand for
Shenzhen's 10 districts over 14 days), read through the rollup's primary key; the current hour, still filling,
is left out. What is kept in memory is one ``Baseline`` per district and hour of the day.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from alerts.anomaly import Baselines, baselines_from_days
from alerts.rules import Rule

# A city with thousands of districts would be a different product; this bounds what one refresh may hold
# (districts × 24 hours × days) even if a producer invented districts.
MAX_ROWS = 500_000

QUERY = (
    "SELECT district, extract(epoch FROM bucket)::float8, sum(value_sum) / sum(readings)"
    " FROM sensor_rollup_1h"
    " WHERE metric = %(metric)s AND bucket >= %(since)s AND bucket < %(until)s AND readings > 0"
    " AND (%(kinds)s::text[] IS NULL OR kind = ANY(%(kinds)s))"
    " AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s))"
    " GROUP BY district, bucket LIMIT %(limit)s"
)


def load_baselines(conn: psycopg.Connection, rule: Rule, now: datetime, zone: str) -> Baselines:
    """The baselines of anomaly ``rule`` at ``now`` (aware), hours of the day in ``zone``."""
    until = now.replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(days=rule.baseline_days)
    kinds, districts = rule.match.get("kind"), rule.match.get("district")
    params = {"metric": rule.metric, "since": since, "until": until, "limit": MAX_ROWS,
              "kinds": sorted(kinds) if kinds else None, "districts": sorted(districts) if districts else None}
    # The evaluator waits for this: a stuck database ends the load (QueryCanceled, an outage) rather than alerting.
    conn.execute("SET LOCAL statement_timeout = '30s'")
    rows = conn.execute(QUERY, params).fetchall()
    conn.commit()  # a read: end it, so the connection does not sit idle in a transaction
    return baselines_from_days(rows, zone, rule.baseline_days)
