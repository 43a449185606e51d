"""Anomaly rules end to end: baselines from real hourly rollups in TimescaleDB, the real evaluator and sender,
readings XADDed to the city stream, webhooks received; and a database away while baselines load."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

import bootstrap
from alerts.evaluate import Evaluator
from tests.integration.alerting import with_receivers, write_rules
from tests.integration.conftest import count, wait_until
from tests.integration.events import reading

pytestmark = pytest.mark.integration
DAYS = [60.0, 61.0, 59.0, 60.0, 62.0, 58.0, 60.0, 61.0, 59.0, 60.0]  # usual 60 dB, MAD 1 dB
RULE = """[defaults]
keep_firing_for = "0s"
[[rule]]
id = "noise_unusual"
type = "anomaly"
severity = "warning"
summary = "Noise in {subject} is {value:.0f} dB, usual for {hour} is {usual:.0f} dB (±{spread:.0f})"
match = { kind = "noise" }
metric = "laeq_db"
direction = "above"
window = "1m"
threshold = 4
min_mad = 0.5
baseline_days = 14
min_history = 7
"""
NOISE = {"kind": "noise", "metric": "laeq_db", "unit": "dB"}


def seed_rollups(db: psycopg.Connection, district: str, days: list[float], now: datetime) -> None:
    """Every hour of the days before ``now``, as ingest would have rolled them up: day ``i`` back reads
    ``days[i - 1]`` all day (60 readings an hour), and the current hour reads far above them (it is not history)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows = [(hour - timedelta(hours=h), district, value) for back, value in enumerate(days, start=1)
            for h in range(24 * (back - 1) + 1, 24 * back + 1)]  # fmt: skip
    rows.append((hour, district, 95.0))
    with db.cursor() as cur:
        cur.executemany("INSERT INTO sensor_rollup_1h (bucket, district, kind, metric, readings, value_sum, value_min,"
                        " value_max) VALUES (%s, %s, 'noise', 'laeq_db', 60, 60 * %s, %s, %s)",
                        [(b, d, v, v, v) for b, d, v in rows])  # fmt: skip


@pytest.fixture
def alerting(test_settings, tmp_path, receiver, rds):
    """The evaluator and the sender (threads) on the anomaly rule; stopped when the test ends."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start():
        settings = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "r.toml", RULE),
                                  alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                                  city_timezone="Asia/Shanghai")  # fmt: skip
        for worker in (bootstrap.alert_evaluator(settings), bootstrap.alert_sender(settings)):
            threads.append(threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True))
            threads[-1].start()
        wait_until(lambda: rds.get(f"{settings.alert_consumer_group}:leader"), what="an elected evaluator")
        group = settings.alert_consumer_group.encode()
        wait_until(lambda: any(g["name"] == group for g in rds.xinfo_groups(settings.stream_iot)), what="the group")
        return settings

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)


def test_a_district_far_from_its_usual_hour_fires_with_the_baseline_and_resolves(alerting, receiver, rds, db):
    now = datetime.now(UTC)
    seed_rollups(db, "futian", DAYS, now)
    seed_rollups(db, "nanshan", DAYS[:5], now)  # 5 days of history: under min_history, never judged
    settings = alerting()
    t0 = int(now.timestamp() * 1000) - 90_000  # the readings' own times move the window, not the wall clock
    rds.xadd(settings.stream_iot, reading("ns-1", 62, ts=t0, **NOISE))  # ns-1 is in Futian: within 4 spreads
    rds.xadd(settings.stream_iot, reading("ns-2", 99, ts=t0, **NOISE))  # Nanshan, far out, but too little history
    rds.xadd(settings.stream_iot, reading("ns-3", 88, ts=t0 + 1000, **NOISE))  # Futian's mean (62 + 88) / 2 = 75
    wait_until(lambda: len(receiver.deliveries) >= 1, what="the anomaly's webhook")
    fired = receiver.deliveries[0].json["data"]["alert"]
    middle = t0 / 1000 + 1 - 30  # of the 1-minute window ending at the newest reading: the hour the summary names
    local = datetime.fromtimestamp(middle, UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert (fired["rule_id"], fired["subject"], fired["status"]) == ("noise_unusual", "futian", "firing")
    assert fired["summary"] == f"Noise in futian is 75 dB, usual for {local:%H}:00 is 60 dB (±1)"
    assert fired["annotations"]["usual"] == 60 and fired["annotations"]["days"] == 10
    assert fired["annotations"]["spread"] == pytest.approx(1.4826)
    rds.xadd(settings.stream_iot, reading("ns-1", 61, ts=t0 + 65_000, **NOISE))  # the window now holds only this
    wait_until(lambda: [d.json["type"] for d in receiver.deliveries] == ["alert.firing", "alert.resolved"],
               what="the anomaly resolved")  # fmt: skip
    assert count(db, "SELECT count(*) FROM alerts") == 1
    assert count(db, "SELECT count(*) FROM alerts WHERE rule_id = 'noise_unusual' AND subject = 'futian'"
                     " AND status = 'resolved' AND annotations->>'hour' = %s", f"{local:%H}:00") == 1  # fmt: skip


def leading_worker(test_settings, tmp_path, db, now: datetime):
    """An evaluator worker of the noise rule, leading, over ``DAYS`` days of Futian's rollups before ``now``."""
    seed_rollups(db, "futian", DAYS, now)
    settings = test_settings.model_copy(update={"alert_rules_file": write_rules(tmp_path / "r.toml", RULE),
                                                "city_timezone": "Asia/Shanghai"})  # fmt: skip
    worker = bootstrap.alert_evaluator(settings)
    worker.evaluator = Evaluator(worker.rules, started=time.time())
    return worker


def test_a_database_away_while_baselines_load_keeps_the_ones_the_rule_had(test_settings, tmp_path, db):
    now = datetime.now(UTC)
    worker = leading_worker(test_settings, tmp_path, db, now)
    assert worker.refresh_baselines()
    judge = worker.evaluator.judges["noise_unusual"]
    loaded = judge.baselines
    assert loaded.at("futian", now.timestamp())[1].usual == 60

    def away() -> psycopg.Connection:
        raise psycopg.OperationalError("connection refused (the test's outage)")

    worker.connect_db = away
    assert not worker.refresh_baselines()  # logged and postponed, not raised: the evaluator goes on
    assert judge.baselines is loaded
    assert worker._next_baselines - time.monotonic() <= 60


def test_the_hourly_refresh_loads_in_a_thread_and_is_handed_over_at_a_later_tick(test_settings, tmp_path, db):
    now = datetime.now(UTC)
    worker = leading_worker(test_settings, tmp_path, db, now)
    judge = worker.evaluator.judges["noise_unusual"]
    before = judge.baselines
    release = threading.Event()
    connect = worker.connect_db

    def slow_database() -> psycopg.Connection:  # the load waits until the test lets it go on
        release.wait(timeout=60)
        return connect()

    worker.connect_db = slow_database
    worker._refresh_baselines_aside()
    worker._refresh_baselines_aside()  # asked again while one is loading: no second thread
    assert [t.name for t in threading.enumerate()].count("alerts-baselines") == 1
    worker._take_baselines()  # not finished: nothing handed over, the evaluator's thread did not wait
    assert judge.baselines is before
    release.set()
    wait_until(lambda: (worker._take_baselines(), judge.baselines is not before)[1], what="the baselines taken")
    assert judge.baselines.at("futian", now.timestamp())[1].usual == 60
    assert worker._next_baselines == 0.0  # the second ask: loaded again at the next tick
