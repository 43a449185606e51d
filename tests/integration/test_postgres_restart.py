"""PostgreSQL restarted mid-batch, fast and then immediately, under real `ioc ingest` workers and `ioc alerts run`.

The database is the test's own (tests/integration/private_postgres.py: the chroot's PostgreSQL 17 + TimescaleDB on
a port of its own), never the shared one. Both ingest workers are held inside their write and the evaluator inside
its alert's transaction when the server goes down, so each restart cuts a batch in the middle. Nobody restarts a
worker: they back off, reconnect and write their batches again. Every reading must be stored exactly once,
nothing left pending, and each alert fire and be delivered once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import bootstrap
from settings import Settings
from storage.migrate import migrate
from tests.integration import events
from tests.integration.alerting import Receiver, alerts_env, with_receivers, write_rules
from tests.integration.conftest import wait_until
from tests.integration.faults import (
    RULES,
    assert_stored_once_and_each_alert_once,
    background,
    children,
    firing,
    hot,
    start,
    stop,
)
from tests.integration.private_postgres import PrivatePostgres

pytestmark = pytest.mark.integration
HALF = 10_000
BEFORE, AFTER = "aq-9101", "aq-9102"  # over the threshold: the first in the fast restart, the second in the immediate
# Over the threshold while the server is down, one per restart: the evaluator has an alert to write then, so it meets
# the outage for certain. (Its alert in hand can commit in the moment between the holder's backend and its own
# being terminated, when the postmaster is slow to signal both; with nothing more to write it would never notice.)
DURING = {"fast": "aq-9103", "immediate": "aq-9104"}


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.remove()


@pytest.fixture
def city(test_settings: Settings, server: PrivatePostgres, receiver: Receiver, tmp_path: Path) -> Settings:
    """The test's streams on the shared Redis, its schema on the private PostgreSQL."""
    s = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "rules.toml", RULES),
                       alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                       ingest_batch=500, database_url=server.url)  # fmt: skip
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    return s


def ask(s: Settings, query: str, *params: object) -> object:
    """One value from the private database on a fresh connection; None while it is down."""
    try:
        with bootstrap.db_connection(s) as conn:
            return conn.execute(query, params).fetchone()[0]
    except psycopg.OperationalError:
        return None


def lock_waits(s: Settings, table: str) -> int:
    return ask(s, "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", table) or 0


def hold_writes(s: Settings) -> psycopg.Connection:
    """A transaction that holds ingest's and the evaluator's writes (reads go on): dies with the server."""
    holder = bootstrap.db_connection(s)
    holder.execute("LOCK TABLE sensor_readings IN SHARE MODE")
    holder.execute("LOCK TABLE alerts IN SHARE MODE")
    return holder


def restart_mid_batch(s: Settings, rds, server: PrivatePostgres, mode: str, logs: tuple[Path, Path]) -> None:
    """With both workers and the evaluator waiting inside their transactions: shut down ``mode``, send a reading
    over the threshold, wait until the workers have met the outage, start again on the same data."""
    wait_until(lambda: lock_waits(s, "sensor_readings") >= 2 and lock_waits(s, "alerts") >= 1, timeout=90,
               what="both ingest workers and the evaluator waiting inside their writes")  # fmt: skip
    ingest_log, alerts_log = logs
    # Counted before the shutdown: a worker can meet it (and say so) before stop() has returned.
    said = (ingest_log.read_bytes().count(b"database unavailable"),
            alerts_log.read_bytes().count(b"alerts: database unavailable"))  # fmt: skip
    server.stop(mode)
    events.fill(rds, s.stream_iot, hot(DURING[mode], 1))
    wait_until(lambda: ingest_log.read_bytes().count(b"database unavailable") > said[0]
               and alerts_log.read_bytes().count(b"alerts: database unavailable") > said[1], timeout=90,
               what=f"the workers to meet the {mode} shutdown")  # fmt: skip
    server.start()


def test_postgres_restarted_fast_and_immediately_mid_batch_loses_and_doubles_nothing(rds, city, server, receiver,
                                                                                     tmp_path):  # fmt: skip
    s = city
    logs = ingest_log, alerts_log = tmp_path / "ingest.log", tmp_path / "alerts.log"
    procs, held = [], []
    try:
        ingest = start(["ingest", "--workers", "2"], alerts_env(s), ingest_log)
        procs.append(ingest)
        alerting = start(["alerts", "run"], alerts_env(s), alerts_log)
        procs.append(alerting)
        wait_until(lambda: rds.get(f"{s.alert_consumer_group}:leader"), timeout=60, what="an elected evaluator")
        wait_until(lambda: len(rds.xinfo_groups(s.stream_iot)) == 2, timeout=60, what="both consumer groups")
        workers = wait_until(lambda: len(children(ingest.pid)) >= 2 and children(ingest.pid), timeout=60,
                             what="the two ingest worker processes")  # fmt: skip

        held.append(hold_writes(s))  # kept referenced: the locks last until the server goes down
        events.fill(rds, s.stream_iot, [*hot(BEFORE, 3), *background(0, HALF)])
        restart_mid_batch(s, rds, server, "fast", logs)
        wait_until(lambda: ask(s, "SELECT count(*) FROM sensor_readings") == HALF + 4
                   and rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0, timeout=240,
                   what=f"catch-up after the fast restart ({ingest_log})")  # fmt: skip
        wait_until(lambda: sorted(firing(receiver)) == [BEFORE, DURING["fast"]], timeout=60,
                   what="the alert of the cut transaction and the one raised during the outage")  # fmt: skip

        held.append(hold_writes(s))
        events.fill(rds, s.stream_iot, [*background(HALF, HALF), *hot(AFTER, 3), *hot(BEFORE, 3)])
        restart_mid_batch(s, rds, server, "immediate", logs)
        total = 2 * HALF + 11
        wait_until(lambda: ask(s, "SELECT count(*) FROM sensor_readings") == total
                   and rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0, timeout=240,
                   what=f"catch-up after the immediate restart ({ingest_log})")  # fmt: skip
        alerts = sorted([BEFORE, AFTER, *DURING.values()])
        wait_until(lambda: sorted(firing(receiver)) == alerts, timeout=60, what="the alerts after the second restart")
        wait_until(lambda: rds.xpending(s.stream_iot, s.alert_consumer_group)["pending"] == 0, timeout=60,
                   what=f"every entry acknowledged by the evaluator ({alerts_log})")  # fmt: skip

        assert_stored_once_and_each_alert_once(lambda q: ask(s, q), total, receiver, alerts)
        assert ask(s, "SELECT sum(readings) FROM sensor_rollup_1h") == total
        assert ingest.poll() is None and alerting.poll() is None
        assert children(ingest.pid) == workers  # reconnected by themselves, nobody restarted
    finally:
        for proc in procs:
            stop(proc)
        for holder in held:
            holder.close()
    text = ingest_log.read_text() + alerts_log.read_text()
    assert "restarting it" not in text and "Traceback" not in text, text[-5000:]
