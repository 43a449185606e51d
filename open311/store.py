"""The rows Open311 publishes, read from the current state of each request (``complaints``).

``complaints`` holds one row per request, merged by ingest from every ``complaint_events`` row of it (status,
category, district and position of the latest event; opened, closed and updated times), so a request's latest
status is one row away. Only the columns Open311 publishes are selected: never ``description``. Every query is
parameterised and bounded by its ``LIMIT``; ranges go through ``complaints_opened_idx`` (migration 0012).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from open311.mapping import DB_STATUSES
from open311.query import RequestsQuery

ConnectionFactory = Callable[[], AbstractContextManager[psycopg.Connection]]
COLUMNS = "request_id, status, category, district, lat, lon, opened_at, updated_at, closed_at"
BY_IDS = f"SELECT {COLUMNS} FROM complaints WHERE request_id = ANY(%(ids)s) ORDER BY opened_at DESC, request_id DESC"
IN_RANGE = (
    f"SELECT {COLUMNS} FROM complaints WHERE opened_at >= %(start)s AND opened_at <= %(end)s "
    "AND (%(codes)s::text[] IS NULL OR category = ANY(%(codes)s)) "
    "AND (%(statuses)s::text[] IS NULL OR status = ANY(%(statuses)s)) "
    "ORDER BY opened_at DESC, request_id DESC LIMIT %(limit)s"
)
CATEGORIES = "SELECT DISTINCT category FROM complaints WHERE opened_at >= %(since)s LIMIT %(limit)s"
CATEGORIES_MAX = 1000  # the service list's bound, whatever producers invent
CATEGORIES_TTL_S = 60.0  # a new category reaches the service list within a minute; until then one query a minute


class Open311Store:
    """Read-only queries over a connection factory (the dashboard's read pool)."""

    def __init__(self, connection: ConnectionFactory, clock: Callable[[], float] = time.monotonic) -> None:
        self._connection, self._clock = connection, clock
        self._categories: tuple[float, list[str]] | None = None
        self._lock = threading.Lock()

    def _rows(self, query: str, params: dict) -> list[dict]:
        with self._connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def requests(self, query: RequestsQuery) -> list[dict]:
        """The rows ``query`` asks for, newest first."""
        if query.ids is not None:
            return self._rows(BY_IDS, {"ids": list(query.ids)})[: query.limit]
        statuses = [s for status in query.statuses for s in DB_STATUSES[status]] if query.statuses else None
        params = {
            "start": query.start,
            "end": query.end,
            "codes": list(query.codes) if query.codes else None,
            "statuses": statuses,
            "limit": query.limit,
        }
        return self._rows(IN_RANGE, params)

    def request(self, request_id: str) -> dict | None:
        """One request's row, or None."""
        rows = self._rows(BY_IDS, {"ids": [request_id]})
        return rows[0] if rows else None

    def categories(self, since: datetime) -> list[str]:
        """Categories of requests opened since ``since``, remembered for ``CATEGORIES_TTL_S``."""
        with self._lock:
            cached = self._categories
            if cached is not None and self._clock() - cached[0] < CATEGORIES_TTL_S:
                return cached[1]
        found = [r["category"] for r in self._rows(CATEGORIES, {"since": since, "limit": CATEGORIES_MAX})]
        with self._lock:
            self._categories = (self._clock(), found)
        return found
