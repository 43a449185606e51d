"""The alert evaluator when things go wrong: its leader killed, its database away (real Redis, TimescaleDB, a real
`ioc alerts run` process and a real local webhook receiver)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator

import pytest

import bootstrap
from settings import Settings
from tests.integration.alerting import Receiver, start_alerts, with_receivers, write_rules
from tests.integration.conftest import allow_connections, holds_for, refuse_connections, wait_until
from tests.integration.events import reading
from tests.integration.faults import RULES

pytestmark = pytest.mark.integration
EVALUATOR = "evaluator"  # the one consumer name every leader reads as (alerts/worker.py)


def alert_settings(settings: Settings, receiver: Receiver, tmp_path) -> Settings:
    return with_receivers(settings, receiver, alert_rules_file=write_rules(tmp_path / "rules.toml", RULES),
                          alert_tick_s=0.1, alert_consumer_group=f"{settings.consumer_group}-alerts")  # fmt: skip


@pytest.fixture
def in_threads() -> Iterator[Callable[[Settings], None]]:
    """Start an evaluator and a sender of ``settings`` as threads of this process; stopped when the test ends."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(settings: Settings) -> None:
        for worker in (bootstrap.alert_evaluator(settings), bootstrap.alert_sender(settings)):
            threads.append(threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True))
            threads[-1].start()

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads), "a worker did not stop"


def firing(receiver: Receiver) -> list[str]:
    """The subject of every alert.firing webhook received, in order."""
    return [d.json["data"]["alert"]["subject"] for d in receiver.deliveries if d.json["type"] == "alert.firing"]


def pending(rds, settings: Settings) -> int:
    return rds.xpending(settings.stream_iot, settings.alert_consumer_group)["pending"]


def test_a_killed_leaders_unacknowledged_entries_are_evaluated_by_the_next(rds, test_settings, receiver, tmp_path,
                                                                            in_threads):  # fmt: skip
    s = alert_settings(test_settings, receiver, tmp_path)
    lease = f"{s.alert_consumer_group}:leader"
    first = start_alerts(s, log=tmp_path / "first.log")
    try:
        holder = wait_until(lambda: rds.get(lease), timeout=30, what="the first evaluator to lead")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    expires_ms = rds.execute_command("PEXPIRETIME", lease)  # when the dead leader's lease ends, on Redis's clock
    # What the dead leader had read but not acknowledged when it died: read here under the leader's consumer name.
    rds.xadd(s.stream_iot, reading("aq-101", 400))
    assert rds.xreadgroup(s.alert_consumer_group, EVALUATOR, {s.stream_iot: ">"})
    rds.xadd(s.stream_iot, reading("aq-102", 500))  # and what nobody read yet

    in_threads(s)

    # The dead leader's lease runs out by itself (nobody can tell a dead leader from a slow one); until then
    # the new evaluator must neither take it nor evaluate, or two would judge the same windows. Watched for as
    # long as the lease lasts, however long the steps above took.
    def old_lease_over() -> bool:
        alerted = bool(receiver.deliveries)  # looked at first: an alert seen while the lease still holds is early
        over = rds.get(lease) != holder
        assert over or not alerted, "the new evaluator alerted while the old lease lasted"
        return over

    wait_until(old_lease_over, what="the dead leader's lease to run out")
    seconds, micros = rds.time()
    assert seconds * 1000 + micros // 1000 >= expires_ms, "the lease changed hands before it expired"
    wait_until(lambda: sorted(firing(receiver)) == ["aq-101", "aq-102"], timeout=30,
               what="both alerts from the new leader")  # fmt: skip
    assert rds.get(lease) not in (None, holder)
    wait_until(lambda: pending(rds, s) == 0, what="every entry acknowledged by the new leader")
    with bootstrap.db_connection(s) as db:  # once in the outbox is once on the wire: the sender sends a row once
        queued = db.execute("SELECT count(*) FROM alert_outbox WHERE event_type = 'alert.firing'").fetchone()[0]
    assert queued == 2, "each alert fired once"


def test_with_the_database_down_the_evaluator_holds_its_entries_and_fires_when_it_returns(rds, own_database,
                                                                                           receiver, tmp_path,
                                                                                           in_threads):  # fmt: skip
    plain, admin, name = own_database
    s = alert_settings(plain, receiver, tmp_path)
    in_threads(s)
    wait_until(lambda: rds.get(f"{s.alert_consumer_group}:leader"), what="an elected evaluator")
    rds.xadd(s.stream_iot, reading("aq-201", 400))
    wait_until(lambda: firing(receiver) == ["aq-201"], what="an alert while the database is up")

    refuse_connections(admin, name)
    rds.xadd(s.stream_iot, reading("aq-202", 600))
    wait_until(lambda: pending(rds, s) > 0, what="the evaluator to read the reading it cannot store")
    # Several back-off rounds (at most 0.5 s each here): the reading stays unacknowledged, nothing is sent.
    holds_for(lambda: pending(rds, s) == 1 and firing(receiver) == ["aq-201"], seconds=3,
              what="the entry held while the database is down")  # fmt: skip
    allow_connections(admin, name)

    wait_until(lambda: firing(receiver) == ["aq-201", "aq-202"], timeout=30, what="the alert after the outage")
    wait_until(lambda: pending(rds, s) == 0, what="the entry acknowledged once stored")
