"""The dashboard reads from a real streaming replica (`ioc services replica up`) and writes only to the primary.

The replica is a hot standby of the chroot's TimescaleDB, set up once per session through the command itself and
left running (it follows the primary; `ioc services replica down` stops it). Each test has its own schema, made
on the primary (tests/isolation.py), which reaches the replica by replication like any other write.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

import bootstrap
from infra.services_plan import replica_port, replica_url
from settings import Settings
from storage.event_store import Batch, EventStore
from streams.complaints import ComplaintEvent
from tests.integration.conftest import wait_until
from tests.integration.processes import REPO, settings_env

pytestmark = pytest.mark.integration

# Replication on an idle machine takes milliseconds; this only bounds a busy one.
REPLICATION_TIMEOUT_S = 60


@pytest.fixture(scope="session")
def read_url(base_settings: Settings) -> str:
    """The test database on the replica, which is up and streaming from the primary."""
    url = replica_url(base_settings.database_url, replica_port("", base_settings.database_url))
    env = settings_env(base_settings) | {"IOC_DATABASE_READ_URL": url}
    done = subprocess.run([sys.executable, "-m", "cli.main", "services", "replica", "up"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    if done.returncode != 0 and "does not run from the chroot" in done.stderr:
        pytest.skip("the development replica is made only beside the chroot's TimescaleDB (DEVELOPERS.md)")
    assert done.returncode == 0, f"ioc services replica up failed:\n{done.stderr}"
    return url


@pytest.fixture
def dashboard(test_settings: Settings, read_url: str) -> Iterator[bootstrap.DashboardServices]:
    services = bootstrap.DashboardServices(test_settings.model_copy(update={"database_read_url": SecretStr(read_url)}))
    yield services
    services.read_pool.close()
    services.pool.close()


def _in_recovery(pool) -> bool:
    with pool.connection() as conn:
        return bool(conn.execute("SELECT pg_is_in_recovery()").fetchone()[0])


def _open_in(dashboard: bootstrap.DashboardServices, district: str) -> int:
    try:
        return dashboard.queries.open_complaints_by_district().get(district, 0)
    except psycopg.errors.UndefinedTable:  # the test's new schema has not reached the replica yet
        return 0


def test_a_row_written_on_the_primary_reaches_the_dashboards_read_path(dashboard):
    assert _in_recovery(dashboard.read_pool) and not _in_recovery(dashboard.pool)
    complaint = ComplaintEvent(datetime.now(UTC), "sr-replica-1", "open", "noise", "futian", 22.54, 114.06,
                               "hotline", None, None, None, "1-0")  # fmt: skip
    store = EventStore(bootstrap.db_connection(dashboard.settings))
    try:
        store.write(Batch(complaints=[complaint]))
    finally:
        store.close()
    wait_until(lambda: _open_in(dashboard, "futian") == 1, timeout=REPLICATION_TIMEOUT_S,
               what="the complaint on the replica")  # fmt: skip


def test_a_write_through_the_read_url_is_refused(dashboard, read_url):
    probe = sql.SQL("CREATE TABLE {}.probe (id int)").format(sql.Identifier(dashboard.settings.db_schema))
    with dashboard.read_pool.connection() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute(probe)
    with psycopg.connect(read_url, autocommit=True) as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
        conn.execute("CREATE TABLE replica_probe (id int)")


def test_without_a_read_url_the_dashboard_reads_from_its_own_database(test_settings):
    services = bootstrap.DashboardServices(test_settings)
    try:
        assert services.read_pool is services.pool and not _in_recovery(services.read_pool)
    finally:
        services.pool.close()
