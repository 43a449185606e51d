"""Real Redis and real TimescaleDB for every integration test, each test in its own schema and streams.

The services come from the README's test command (`ioc services up`); IOC_REDIS_URL and IOC_DATABASE_URL say
where. A test never shares tables or stream names with another, so the order of tests never matters.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
import redis
from psycopg import sql

import bootstrap
from settings import Settings
from storage.migrate import migrate
from tests.integration.alerting import Receiver
from tests.isolation import isolated

pytestmark = pytest.mark.integration


def wait_until(
    predicate: Callable[[], object], timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> object:
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


def holds_for(predicate: Callable[[], object], seconds: float, what: str = "") -> None:
    """Check that ``predicate`` stays truthy for ``seconds`` (for "nothing happens" properties)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), f"stopped holding: {what}"
        time.sleep(0.05)


def _answers(check: Callable[[], object]) -> bool:
    try:
        check()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    settings = Settings()
    client = redis.Redis.from_url(settings.redis_url)
    wait_until(lambda: _answers(client.ping), timeout=20, what=f"Redis at {settings.redis_url}")
    wait_until(
        lambda: _answers(lambda: psycopg.connect(settings.database_url, connect_timeout=2).close()),
        timeout=20,
        what=f"TimescaleDB at {settings.database_url} (run scripts/test.sh)",
    )
    return settings


@pytest.fixture
def test_settings(base_settings: Settings) -> Iterator[Settings]:
    """Settings with a fresh schema and fresh stream names; both are removed afterwards."""
    with isolated(base_settings, ingest_block_ms=50, claim_idle_ms=500,
                  housekeeping_interval_s=0.2, db_retry_max_s=0.5) as settings:
        yield settings


@pytest.fixture
def rds(test_settings: Settings) -> redis.Redis:
    return bootstrap.redis_client(test_settings)


@pytest.fixture
def db(test_settings: Settings) -> Iterator[psycopg.Connection]:
    conn = bootstrap.db_connection(test_settings)
    conn.autocommit = True
    yield conn
    conn.close()


def count(db: psycopg.Connection, query: str, *params: object) -> int:
    """The single number a query returns."""
    return db.execute(query, params).fetchone()[0]


@pytest.fixture
def own_database(test_settings):
    """A database of its own, so the test can refuse all connections to it without touching other tests."""
    name = f"ioc_outage_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(test_settings.database_url, autocommit=True)
    admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(test_settings.database_url, dbname=name)
    settings = test_settings.model_copy(update={"database_url": url})
    migrate(url, settings.db_schema, bootstrap.retention(settings))
    yield settings, admin, name
    allow_connections(admin, name)
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()


def refuse_connections(admin: psycopg.Connection, name: str) -> None:
    """The database outage the outage tests need: no new connections, and every open one cut."""
    admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def allow_connections(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(name)))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local webhook receiver (a real HTTP server on 127.0.0.1), stopped after the test."""
    r = Receiver().start()
    yield r
    r.stop()
