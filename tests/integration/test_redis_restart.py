"""Redis restarted under a running city: real `ioc ingest` workers and a real `ioc alerts run` ride it out.

The test's own Redis (tests/integration/private_redis.py: append-only, `appendfsync everysec`, the IOC's users
from an ACL file, as docker-compose.yml runs it) is stopped with SIGTERM and started again on the same port and
data while readings are pending and the workers are in the middle of their batches; nobody restarts a worker.
Every reading must then be stored exactly once, nothing left pending in either consumer group, and the alert
fire once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

import bootstrap
from settings import Settings
from tests.integration import events
from tests.integration.alerting import Receiver, alerts_env, with_receivers, write_rules
from tests.integration.conftest import count, wait_until
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
from tests.integration.private_redis import PrivateRedis, loaded

pytestmark = pytest.mark.integration
HALF = 10_000  # readings before the restart, and as many after
BEFORE, AFTER = "aq-9001", "aq-9002"  # the devices over the threshold: one before the restart, one after
LOADING = b"Redis is loading the dataset in memory"
LOAD_DELAY_US = 300  # the AOF holds some 10,000 commands by the restart: about 3 s of LOADING


@pytest.fixture
def city(test_settings: Settings, receiver: Receiver, tmp_path: Path) -> Iterator[tuple[Settings, PrivateRedis]]:
    """Settings on a private Redis (the processes connect as their own users there: ``accounts_env``)."""
    s = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "rules.toml", RULES),
                       alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                       ingest_batch=500)  # fmt: skip
    data = tmp_path / "redis"
    data.mkdir()
    server = PrivateRedis(data, s)
    server.start()
    try:
        yield s.model_copy(update={"redis_url": server.url}), server
    finally:
        server.kill()


def accounts_env(server: PrivateRedis) -> dict[str, str]:
    return {"IOC_INGEST_REDIS_URL": server.account_url("ingest"), "IOC_ALERTS_REDIS_URL": server.account_url("alerts")}


def lock_waits(db, table: str) -> int:
    return count(db, "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted", table)


def test_redis_restarted_during_ingest_and_alerting_loses_and_doubles_nothing(city, db, receiver, tmp_path):
    s, server = city
    admin = bootstrap.redis_client(s)  # the test's own view, as Redis's default user
    # The city's producers write as ioc_producer (XADD only), as compose's simulator does.
    producer = bootstrap.redis_client(
        s.model_copy(update={"producer_redis_url": SecretStr(server.account_url("producer"))}), "producer"
    )
    ingest_log, alerts_log = tmp_path / "ingest.log", tmp_path / "alerts.log"
    procs = []
    holder = bootstrap.db_connection(s)
    try:
        ingest = start(["ingest", "--workers", "2"], alerts_env(s) | accounts_env(server), ingest_log)
        procs.append(ingest)
        alerting = start(["alerts", "run"], alerts_env(s) | accounts_env(server), alerts_log)
        procs.append(alerting)
        wait_until(lambda: admin.get(f"{s.alert_consumer_group}:leader"), timeout=60, what="an elected evaluator")
        wait_until(lambda: len(admin.xinfo_groups(s.stream_iot)) == 2, timeout=60, what="both consumer groups")
        workers = wait_until(lambda: len(children(ingest.pid)) >= 2 and children(ingest.pid), timeout=60,
                             what="the two ingest worker processes")  # fmt: skip

        # Hold both workers inside their write and the evaluator inside its alert's commit: when Redis goes,
        # batches are read and unacknowledged, and will be committed while it is away.
        holder.execute("LOCK TABLE sensor_readings IN SHARE MODE")
        holder.execute("LOCK TABLE alerts IN SHARE MODE")
        events.fill(producer, s.stream_iot, [*hot(BEFORE, 3), *background(0, HALF)])
        wait_until(lambda: lock_waits(db, "sensor_readings") >= 2 and lock_waits(db, "alerts") >= 1, timeout=90,
                   what="both ingest workers and the evaluator waiting inside their writes")  # fmt: skip
        assert admin.xpending(s.stream_iot, s.consumer_group)["pending"] > 0
        assert admin.xpending(s.stream_iot, s.alert_consumer_group)["pending"] > 0

        server.stop()
        holder.rollback()  # the writes go through now, with Redis away: their acknowledgements must wait
        wait_until(lambda: lock_waits(db, "sensor_readings") == 0 and count(db, "SELECT count(*) FROM sensor_readings"),
                   timeout=90, what="the batches in hand committed during the outage")  # fmt: skip
        wait_until(lambda: b"Redis unavailable" in ingest_log.read_bytes()
                   and b"alerts: Redis unavailable" in alerts_log.read_bytes(), timeout=90,
                   what="the workers to notice Redis is away")  # fmt: skip
        # The sender needs no Redis: the alert committed during the outage goes out meanwhile.
        wait_until(lambda: firing(receiver) == [BEFORE], timeout=60, what="the first alert, sent during the outage")
        # Back on the same data. A Redis with a city's data reads its AOF for seconds, answering LOADING meanwhile;
        # Redis's own key-load-delay (µs per command read back) makes this small one take as long.
        server.start("--key-load-delay", str(LOAD_DELAY_US))
        wait_until(lambda: LOADING in ingest_log.read_bytes() and LOADING in alerts_log.read_bytes(), timeout=90,
                   what="the workers to meet Redis loading its data")  # fmt: skip
        wait_until(lambda: loaded(admin), timeout=120, what="Redis to finish loading")

        events.fill(producer, s.stream_iot, [*background(HALF, HALF), *hot(AFTER, 3), *hot(BEFORE, 3)])
        total = 2 * HALF + 9
        wait_until(
            lambda: (
                count(db, "SELECT count(*) FROM sensor_readings") == total
                and admin.xpending(s.stream_iot, s.consumer_group)["pending"] == 0
            ),
            timeout=240,
            what=f"every reading stored and acknowledged after the restart ({ingest_log})",
        )
        wait_until(lambda: sorted(firing(receiver)) == [BEFORE, AFTER], timeout=60, what="the alert after the restart")
        wait_until(lambda: admin.xpending(s.stream_iot, s.alert_consumer_group)["pending"] == 0, timeout=60,
                   what=f"every entry acknowledged by the evaluator ({alerts_log})")  # fmt: skip

        assert_stored_once_and_each_alert_once(lambda q: count(db, q), total, receiver, [BEFORE, AFTER])
        # Nobody was restarted: the same processes reconnected by themselves.
        assert ingest.poll() is None and alerting.poll() is None
        assert children(ingest.pid) == workers
    finally:
        holder.rollback()
        holder.close()
        for proc in procs:
            stop(proc)
    text = ingest_log.read_text() + alerts_log.read_text()
    assert "restarting it" not in text and "Traceback" not in text, text[-5000:]


def test_entries_whose_reply_was_lost_are_still_stored_and_judged(city, db, receiver, tmp_path):
    """XREADGROUP delivers entries (they are pending on the reader) and the reply never arrives: a connection cut
    after Redis answered. Here Redis itself cuts it, as it does to a client over its output buffer limit (40 KiB:
    a full batch of 500 readings, some 75 KiB, is cut; small replies pass). Nobody restarts: once replies go
    through again, ingest must store and the evaluator judge what they never saw, or those readings are missing
    and their alerts never fire, and they stay pending for good."""
    s, server = city
    admin = bootstrap.redis_client(s)
    # The readings wait in the stream before the workers start (the evaluator's group made from the start, which
    # it keeps), so every read is a full batch.
    admin.xgroup_create(s.stream_iot, s.alert_consumer_group, id="0", mkstream=True)
    total = 4 * s.ingest_batch
    events.fill(admin, s.stream_iot, [*hot(BEFORE, 3), *background(0, total - 3)])
    admin.config_set("client-output-buffer-limit", "normal 40kb 0 0")
    ingest_log, alerts_log = tmp_path / "ingest.log", tmp_path / "alerts.log"
    procs = [start(["ingest"], alerts_env(s) | accounts_env(server), ingest_log),
             start(["alerts", "run"], alerts_env(s) | accounts_env(server), alerts_log)]  # fmt: skip

    def pending(group: str) -> int | None:
        try:
            return admin.xpending(s.stream_iot, group)["pending"]
        except redis.ResponseError:  # NOGROUP: the worker has not made its group yet
            return None

    try:
        wait_until(lambda: pending(s.consumer_group) == total and pending(s.alert_consumer_group) == total,
                   timeout=90, what="every entry delivered to both groups, none of them seen")  # fmt: skip
        assert count(db, "SELECT count(*) FROM sensor_readings") == 0 and firing(receiver) == []
        admin.config_set("client-output-buffer-limit", "normal 0 0 0")  # Redis's default again

        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") == total
                   and pending(s.consumer_group) == 0, timeout=90,
                   what=f"every lost entry stored and acknowledged ({ingest_log})")  # fmt: skip
        wait_until(lambda: firing(receiver) == [BEFORE], timeout=60, what="the alert in the lost reply")
        wait_until(lambda: pending(s.alert_consumer_group) == 0, timeout=60,
                   what=f"every lost entry judged and acknowledged ({alerts_log})")  # fmt: skip
        assert count(db, "SELECT count(DISTINCT (device_id, metric, ts)) FROM sensor_readings") == total
        assert all(proc.poll() is None for proc in procs)
    finally:
        for proc in procs:
            stop(proc)
