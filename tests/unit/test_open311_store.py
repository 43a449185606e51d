"""The Open311 store's one memory: the categories seen in the data, re-read once a minute, not per request."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

from open311 import store as queries
from open311.store import CATEGORIES, CATEGORIES_TTL_S, Open311Store


class FakeDatabase:
    """Answers the categories query with whatever ``categories`` holds now, and counts the queries."""

    def __init__(self) -> None:
        self.categories, self.queries = ["noise"], []

    @contextmanager
    def connection(self):
        yield self

    @contextmanager
    def cursor(self, row_factory=None):
        yield self

    def execute(self, query: str, params: dict) -> None:
        self.queries.append((query, params))

    def fetchall(self) -> list[dict]:
        return [{"category": c} for c in self.categories]


def test_categories_are_remembered_for_a_minute_then_read_again():
    database, now = FakeDatabase(), [1000.0]
    store = Open311Store(database.connection, clock=lambda: now[0])
    since = datetime(2026, 9, 2, tzinfo=UTC)
    assert store.categories(since) == ["noise"]
    database.categories = ["noise", "drone_noise"]
    now[0] += CATEGORIES_TTL_S - 1
    assert store.categories(since) == ["noise"] and len(database.queries) == 1
    now[0] += 1
    assert store.categories(since) == ["noise", "drone_noise"] and len(database.queries) == 2
    assert database.queries[0] == (CATEGORIES, {"since": since, "limit": 1000})


def test_no_query_selects_the_citizens_text():
    for name in ("COLUMNS", "BY_IDS", "IN_RANGE", "CATEGORIES"):
        assert "description" not in getattr(queries, name)
