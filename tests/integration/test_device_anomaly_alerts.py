"""Per-device anomaly rules end to end: each device's hourly means written by the real evaluator into
``device_rollup_1h`` in TimescaleDB, baselines read back from it (or computed once from the raw readings), readings
XADDed to the city stream, webhooks received, and the alert's incident placed where the device is."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import bootstrap
from alerts.device_history import DeviceHistory
from alerts.evaluate import Evaluator
from alerts.worker import DB_OUTAGES
from streams.backoff import Reconnecting
from streams.iot import SensorReading
from tests.integration.alerting import with_receivers, write_rules
from tests.integration.conftest import count, wait_until
from tests.integration.events import reading

pytestmark = pytest.mark.integration
DAYS = [60.0, 61.0, 59.0, 60.0, 62.0, 58.0, 60.0, 61.0, 59.0, 60.0]  # usual 60 dB, MAD 1 dB
RULE = """[defaults]
keep_firing_for = "0s"
[[rule]]
id = "noise_device_unusual"
type = "anomaly"
severity = "warning"
summary = "Noise at {subject} is {value:.0f} dB, usual for {hour} is {usual:.0f} dB (±{spread:.0f})"
match = { kind = "noise" }
metric = "laeq_db"
subject = "device"
direction = "above"
window = "1m"
threshold = 4
min_mad = 0.5
baseline_days = 14
min_history = 7
[incidents]
window = "30m"
distance_m = 2000
quiet = "1h"
open_severities = ["warning"]
"""
NOISE = {"kind": "noise", "metric": "laeq_db", "unit": "dB"}


def past_hours(days: list[float], now: datetime) -> list[tuple[datetime, float]]:
    """Every hour of the days before ``now``'s hour: day ``i`` back reads ``days[i - 1]`` all day."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    return [(hour - timedelta(hours=h), value) for back, value in enumerate(days, start=1)
            for h in range(24 * (back - 1) + 1, 24 * back + 1)]  # fmt: skip


def seed_device_hours(db: psycopg.Connection, device: str, days: list[float], now: datetime) -> int:
    """The device's hourly means as the evaluator would have written them (60 readings an hour); returns how many
    readings that is."""
    rows = [("laeq_db", bucket, device, "noise", "futian", 60, 60 * value) for bucket, value in past_hours(days, now)]
    with db.cursor() as cur:
        cur.executemany("INSERT INTO device_rollup_1h (metric, bucket, device_id, kind, district, readings,"
                        " value_sum) VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)  # fmt: skip
    return 60 * len(rows)


def seed_raw_readings(db: psycopg.Connection, device: str, days: list[float], now: datetime) -> None:
    """Two raw readings an hour of the device (as `ioc simulate backfill` writes them), and the same number of
    another metric the rule does not watch."""
    rows = [(bucket + timedelta(minutes=m), device, kind, metric, value, "futian", f"{device}-{bucket}-{m}-{metric}")
            for bucket, value in past_hours(days, now) for m in (10, 40)
            for kind, metric in (("noise", "laeq_db"), ("air_quality", "pm25"))]  # fmt: skip
    with db.cursor() as cur:
        cur.executemany("INSERT INTO sensor_readings (ts, device_id, kind, metric, value, unit, lat, lon, district,"
                        " source_id) VALUES (%s, %s, %s, %s, %s, 'dB', 22.5431, 114.0596, %s, %s)", rows)  # fmt: skip


def alert_messages(receiver) -> list[dict]:
    """The alerts' webhooks (the incident their alert opened sends its own)."""
    return [d.json for d in receiver.deliveries if d.json["type"].startswith("alert.")]


@pytest.fixture
def alerting(test_settings, tmp_path, receiver, rds):
    """The evaluator (writing device-hours every 0.1 s) and the sender in threads; ``stop()`` ends them."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start():
        settings = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "r.toml", RULE),
                                  alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                                  city_timezone="Asia/Shanghai")  # fmt: skip
        evaluator = bootstrap.alert_evaluator(settings)
        evaluator.device_history.write_every_s = 0.1
        for worker in (evaluator, bootstrap.alert_sender(settings)):
            threads.append(threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True))
            threads[-1].start()
        wait_until(lambda: rds.get(f"{settings.alert_consumer_group}:leader"), what="an elected evaluator")
        group = settings.alert_consumer_group.encode()
        wait_until(lambda: any(g["name"] == group for g in rds.xinfo_groups(settings.stream_iot)), what="the group")
        return settings

    def stopped():
        stop.set()
        for thread in threads:
            thread.join(10)
        assert not any(thread.is_alive() for thread in threads)

    start.stop = stopped
    yield start
    stopped()


def test_a_device_far_from_its_own_usual_hour_fires_resolves_and_its_hours_are_written(alerting, receiver, rds, db):
    now = datetime.now(UTC)
    seeded = seed_device_hours(db, "ns-1", DAYS, now)
    seed_device_hours(db, "ns-3", DAYS[:5], now)  # 5 days of history: under min_history, never judged
    settings = alerting()
    t0 = int(now.timestamp() * 1000) - 90_000  # the readings' own times move the window, not the wall clock
    rds.xadd(settings.stream_iot, reading("ns-1", 62, ts=t0, **NOISE))  # within 4 spreads of its usual 60
    rds.xadd(settings.stream_iot, reading("ns-3", 99, ts=t0, **NOISE))  # far out, but too little history
    rds.xadd(settings.stream_iot, reading("ns-1", 88, ts=t0 + 1000, **NOISE))  # the mean (62 + 88) / 2 = 75
    wait_until(lambda: alert_messages(receiver), what="the anomaly's webhook")
    fired = alert_messages(receiver)[0]["data"]["alert"]
    assert (fired["rule_id"], fired["subject"], fired["status"]) == ("noise_device_unusual", "ns-1", "firing")
    assert fired["annotations"]["usual"] == 60 and fired["annotations"]["days"] == 10
    assert fired["annotations"]["spread"] == pytest.approx(1.4826)
    assert fired["summary"].startswith("Noise at ns-1 is 75 dB, usual for ")
    # Grouped like any device's alert: the incident it opened is where the device is (ns-1 stands in Futian).
    assert count(db, "SELECT count(*) FROM incidents WHERE district = 'futian' AND lat IS NOT NULL") == 1
    rds.xadd(settings.stream_iot, reading("ns-1", 61, ts=t0 + 65_000, **NOISE))  # the window now holds only this
    wait_until(lambda: [m["type"] for m in alert_messages(receiver)] == ["alert.firing", "alert.resolved"],
               what="the anomaly resolved")  # fmt: skip
    assert count(db, "SELECT count(*) FROM alerts") == 1

    # An hour closes when the device's next hour begins: it is written while the evaluator runs.
    hour = now.replace(minute=0, second=0, microsecond=0)
    before = int(hour.timestamp() * 1000) - 600_000
    rds.xadd(settings.stream_iot, reading("ns-5", 40, ts=before, **NOISE))
    rds.xadd(settings.stream_iot, reading("ns-5", 41, ts=before + 601_000, **NOISE))
    wait_until(lambda: count(db, "SELECT count(*) FROM device_rollup_1h WHERE device_id = 'ns-5' AND bucket = %s"
                                 " AND readings = 1 AND value_sum = 40", hour - timedelta(hours=1)),
               what="ns-5's closed hour written")  # fmt: skip
    # The hours still open are written when the evaluator stops (partial: the next leader adds the rest).
    alerting.stop()
    assert count(db, "SELECT sum(readings) FROM device_rollup_1h WHERE device_id = 'ns-1'") == seeded + 3
    assert count(db, "SELECT sum(value_sum)::int8 FROM device_rollup_1h WHERE device_id = 'ns-1'") == (
        sum(24 * 60 * v for v in DAYS) + 62 + 88 + 61
    )
    assert count(db, "SELECT count(*) FROM device_rollup_1h WHERE device_id = 'ns-5' AND readings = 1"
                     " AND kind = 'noise' AND district = 'futian'") == 2  # fmt: skip


def test_a_first_deployment_computes_device_history_once_from_the_raw_readings(alerting, receiver, rds, db):
    now = datetime.now(UTC)
    seed_raw_readings(db, "ns-7", DAYS, now)
    seed_raw_readings(db, "ns-9", DAYS[:5], now)
    settings = alerting()
    wait_until(lambda: count(db, "SELECT count(*) FROM device_rollup_1h") == 24 * (10 + 5),
               what="the hourly means from the raw readings")  # fmt: skip
    assert count(db, "SELECT count(*) FROM device_rollup_1h WHERE metric <> 'laeq_db' OR readings <> 2") == 0
    t0 = int(now.timestamp() * 1000) - 90_000

    def fire() -> bool:  # the baselines are loaded again once the back-fill is done: until then nothing fires
        rds.xadd(settings.stream_iot, reading("ns-7", 90, ts=t0, **NOISE))
        rds.xadd(settings.stream_iot, reading("ns-9", 99, ts=t0, **NOISE))
        return bool(alert_messages(receiver))

    wait_until(fire, interval=0.5, what="ns-7's anomaly")
    assert [m["data"]["alert"]["subject"] for m in alert_messages(receiver)] == ["ns-7"]
    assert alert_messages(receiver)[0]["data"]["alert"]["annotations"]["days"] == 10


def test_a_database_away_keeps_the_closed_hours_for_the_next_try(test_settings, tmp_path, db):
    settings = test_settings.model_copy(update={"alert_rules_file": write_rules(tmp_path / "r.toml", RULE)})
    worker = bootstrap.alert_evaluator(settings)
    worker.evaluator = Evaluator(worker.rules, started=time.time())
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for at, value in ((hour - timedelta(minutes=30), 60.0), (hour - timedelta(minutes=20), 62.0), (hour, 70.0)):
        record = SensorReading(at, "ns-1", "noise", "laeq_db", value, "dB", 22.5, 114.0, "futian", None, "1-0")
        worker.evaluator.observe("iot", [record], at.timestamp())
    hours = worker.evaluator.device_hours

    def away() -> psycopg.Connection:
        raise psycopg.OperationalError("connection refused (the test's outage)")

    outage = DeviceHistory(Reconnecting(away, lambda s: None, DB_OUTAGES, 0.1, "test"), away, write_every_s=0.0)
    assert not outage.write(hours)  # logged, not raised: the evaluator goes on
    assert [(h.readings, h.value_sum) for h in hours.pending()] == [(2, 122.0)]
    assert worker.device_history.write(hours)  # the database is back
    assert hours.pending() == []
    assert count(db, "SELECT count(*) FROM device_rollup_1h WHERE bucket = %s AND readings = 2 AND value_sum = 122",
                 hour - timedelta(hours=1)) == 1  # fmt: skip
