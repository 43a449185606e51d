"""The one read the dashboard's queries do not already have: complaint counts grouped by any of district,
category and hour, from the complaint rollups (never the complaints table, which holds citizens' words).

Parameterised; the only things composed into SQL are the rollup table (``storage.dashboard_queries.rollup_table``)
and dimension expressions taken from the fixed ``DIMENSIONS`` below.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from psycopg import sql
from psycopg.rows import dict_row

from storage.dashboard_queries import ConnectionFactory, rollup_table

DIMENSIONS = {
    "district": sql.SQL("district"),
    "category": sql.SQL("category"),
    "hour": sql.SQL("time_bucket('1 hour'::interval, bucket)"),
}
MAX_ROWS = 200_000


def complaint_aggregates(connection: ConnectionFactory, by: Sequence[str], since: datetime,
                         until: datetime) -> list[dict]:  # fmt: skip
    """Per group of ``by`` (any of district, category, hour): requests opened and closed in [since, until)."""
    columns = [DIMENSIONS[d] + sql.SQL(" AS ") + sql.Identifier(d) for d in by]
    positions = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(by)))
    query = sql.SQL(
        "SELECT {columns}, coalesce(sum(events) FILTER (WHERE status = 'open'), 0)::bigint AS opened, "
        "coalesce(sum(events) FILTER (WHERE status = 'closed'), 0)::bigint AS closed FROM {table} "
        "WHERE bucket >= %(since)s AND bucket < %(until)s GROUP BY {positions} ORDER BY {positions} LIMIT %(limit)s"
    ).format(columns=sql.SQL(", ").join(columns), table=rollup_table("complaint", until - since),
             positions=positions)  # fmt: skip
    with connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, {"since": since, "until": until, "limit": MAX_ROWS}).fetchall()
