"""End to end: entries XADDed to the city streams → evaluator (group ioc-alerts) → store → webhook received."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import bootstrap
from alerts import console
from tests.integration.alerting import Receiver, with_receivers, write_rules
from tests.integration.conftest import count, holds_for, wait_until
from tests.integration.events import complaint, fill, reading, sample

pytestmark = pytest.mark.integration
HEAD = '[defaults]\nkeep_firing_for = "0s"\n[[rule]]\nseverity = "warning"\nsummary = "{rule} {subject} {value}"\n'


@pytest.fixture
def alerting(test_settings, tmp_path, receiver, rds):
    """Start the evaluator and the sender (threads) on a rules text; stopped when the test ends."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(rules: str, **overrides: object):
        path = tmp_path / "rules.toml"
        path.write_text(HEAD + rules)
        settings = with_receivers(test_settings, receiver, alert_rules_file=path, alert_tick_s=0.1,
                                  alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                                  **overrides)  # fmt: skip
        for worker in (bootstrap.alert_evaluator(settings), bootstrap.alert_sender(settings)):
            threads.append(threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True))
            threads[-1].start()
        group = settings.alert_consumer_group.encode()
        wait_until(lambda: all(rds.exists(s) and any(g["name"] == group for g in rds.xinfo_groups(s))
                               for s in settings.streams.values()), what="the ioc-alerts group")  # fmt: skip
        wait_until(lambda: rds.get(f"{settings.alert_consumer_group}:leader"), what="an elected evaluator")
        return settings

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)


def sent(receiver: Receiver) -> list[tuple[str, str, str]]:
    """(event type, rule, subject) of every webhook received, in order."""
    return [(d.json["type"], d.json["data"]["alert"]["rule_id"], d.json["data"]["alert"]["subject"])
            for d in receiver.deliveries]  # fmt: skip


def now_ms() -> int:
    return int(time.time() * 1000)


def test_threshold_fires_after_its_hold_once_and_resolves(alerting, receiver, rds, db):
    settings = alerting('id = "pm25_high"\ntype = "threshold"\nmetric = "pm25"\nsubject = "district"\n'
                        'reduce = "last"\nthreshold = 150\nfor = "0.5s"\n')  # fmt: skip
    breached = time.time()
    rds.xadd(settings.stream_iot, reading("aq-1", 200))  # aq-1 is in Futian
    for _ in range(5):  # a repeated condition: still one alert
        rds.xadd(settings.stream_iot, reading("aq-1", 210))
        time.sleep(0.1)
    wait_until(lambda: sent(receiver) == [("alert.firing", "pm25_high", "futian")], what="one firing webhook")
    # Not before the hold: the evaluator's own record of when it fired, so a slow machine only adds to the margin.
    fired_at = datetime.fromisoformat(receiver.deliveries[0].json["data"]["alert"]["fired_at"])
    assert fired_at.timestamp() - breached >= 0.5
    rds.xadd(settings.stream_iot, reading("aq-1", 20))
    wait_until(lambda: sent(receiver)[1:] == [("alert.resolved", "pm25_high", "futian")], what="resolved webhook")
    assert count(db, "SELECT count(*) FROM alerts") == 1
    assert count(db, "SELECT count(*) FROM alerts WHERE status = 'resolved' AND resolved_by = 'evaluator'") == 1


def test_readings_no_rule_watches_are_acknowledged_without_a_verdict(alerting, receiver, rds):
    settings = alerting('id = "pm25_high"\ntype = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\n')
    group = settings.alert_consumer_group
    for i in range(50):  # skipped unparsed: laeq_db is no rule's metric, whatever it reads
        rds.xadd(settings.stream_iot, reading(f"ns-{i}", 999, kind="noise", metric="laeq_db"))
    rds.xadd(settings.stream_iot, reading("aq-3", 400))
    wait_until(lambda: sent(receiver) == [("alert.firing", "pm25_high", "aq-3")], what="the one alert")

    def done() -> bool:
        mine = next(g for g in rds.xinfo_groups(settings.stream_iot) if g["name"] == group.encode())
        return mine["lag"] == 0 and mine["pending"] == 0

    wait_until(done, what="all 51 read and acknowledged")


def one_step() -> Callable[[], bool]:
    """A ``should_stop`` letting a worker's loop go round once."""
    answers = iter((False, True))
    return lambda: next(answers)


def test_after_a_short_read_the_evaluator_lingers_and_after_a_full_one_it_reads_on(test_settings, tmp_path, rds):
    # Below full load, lingering lets the next read find more. The worker's sleep is recorded, not taken: the
    # test sees the waits the evaluator asks for, never how long anything took.
    rule = 'id = "pm25_high"\ntype = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\n'
    settings = test_settings.model_copy(
        update={
            "alert_rules_file": write_rules(tmp_path / "rules.toml", HEAD + rule),
            "alert_consumer_group": f"{test_settings.consumer_group}-alerts",
            "alert_linger_ms": 300,
            "ingest_batch": 10,  # the evaluator's batch too
        }
    )
    evaluator, slept = bootstrap.alert_evaluator(settings), []
    evaluator.sleep = slept.append
    evaluator.ensure_groups()
    fill(rds, settings.stream_iot, [reading(f"aq-{i}", 20) for i in range(3)])
    evaluator.run(one_step())
    assert slept == [0.3]  # a short read: lingered
    fill(rds, settings.stream_iot, [reading(f"aq-{i}", 20) for i in range(10)])
    evaluator.run(one_step())
    assert slept == [0.3]  # a full read: read on at once
    assert rds.xpending(settings.stream_iot, settings.alert_consumer_group)["pending"] == 0


def test_rate_of_change_fires_and_resolves(alerting, receiver, rds):
    settings = alerting('id = "level_rising"\ntype = "rate"\nmetric = "level_m"\nwindow = "1s"\nthreshold = 0.3\n')
    gauge = {"kind": "water_level", "metric": "level_m", "unit": "m"}
    t0 = now_ms() - 5000  # windows follow the readings' own times, so these move the window, not the wall clock
    rds.xadd(settings.stream_iot, reading("wl-1", 1.0, ts=t0, **gauge))
    rds.xadd(settings.stream_iot, reading("wl-1", 1.4, ts=t0 + 100, **gauge))
    wait_until(lambda: sent(receiver) == [("alert.firing", "level_rising", "wl-1")], what="rate alert")
    rds.xadd(settings.stream_iot, reading("wl-1", 1.45, ts=t0 + 1050, **gauge))  # the 1.0 leaves the window
    wait_until(lambda: sent(receiver)[1:] == [("alert.resolved", "level_rising", "wl-1")], what="rate resolved")


def test_no_data_for_a_device_and_for_a_stream(alerting, receiver, rds):
    settings = alerting('id = "gauge_silent"\ntype = "no_data"\nmatch = { kind = "water_level" }\nsubject = "device"\n'
                        'silent_for = "1s"\n[[rule]]\nid = "feed_silent"\ntype = "no_data"\nseverity = "critical"\n'
                        'summary = "s"\nsource = "complaints"\nsubject = "stream"\nsilent_for = "1.5s"\n')  # fmt: skip
    rds.xadd(settings.stream_iot, reading("wl-3", 1.0, kind="water_level", metric="level_m"))
    wait_until(lambda: {("alert.firing", "gauge_silent", "wl-3"), ("alert.firing", "feed_silent", "complaints")}
               <= set(sent(receiver)), timeout=10, what="both silences")  # fmt: skip
    rds.xadd(settings.stream_iot, reading("wl-3", 1.0, kind="water_level", metric="level_m"))
    rds.xadd(settings.stream_complaints, complaint("c-1", "open", now_ms()))
    wait_until(lambda: {("alert.resolved", "gauge_silent", "wl-3"), ("alert.resolved", "feed_silent", "complaints")}
               <= set(sent(receiver)), what="both resolved")  # fmt: skip


def test_a_starting_evaluator_misses_devices_the_store_heard_before_it(alerting, receiver, db):
    insert = ("INSERT INTO sensor_latest (device_id, metric, kind, unit, value, ts, lat, lon, district)"
              " VALUES (%s, 'level_m', 'water_level', 'm', 1.0, now() - %s * interval '1 second', 22.54, 114.06,"
              " 'futian')")  # fmt: skip
    db.execute(insert, ("wl-7", 1))  # stored by ingest a second ago, then silent
    db.execute(insert, ("wl-8", 3600))  # silent for an hour already: not for a starting evaluator to discover
    alerting('id = "gauge_silent"\ntype = "no_data"\nmatch = { kind = "water_level" }\nsubject = "device"\n'
             'silent_for = "3s"\n')  # fmt: skip
    wait_until(lambda: sent(receiver) == [("alert.firing", "gauge_silent", "wl-7")], timeout=10,
               what="the silent gauge the evaluator never heard itself")  # fmt: skip
    holds_for(lambda: len(sent(receiver)) == 1, seconds=1.0, what="nothing about wl-8")


def test_pue_is_energy_weighted_over_the_window(alerting, receiver, rds):
    settings = alerting('id = "pue_high"\ntype = "aggregate"\nfunction = "pue"\nwindow = "1s"\nthreshold = 1.3\n')
    t0 = now_ms() - 5000  # windows follow the samples' own times, so these move the window, not the wall clock
    rds.xadd(settings.stream_datacenter, sample("dc-1", 1250, 1000, t0))
    rds.xadd(settings.stream_datacenter, sample("dc-1", 300, 200, t0))  # 1550 / 1200 = 1.29: no alert
    holds_for(lambda: not receiver.deliveries, 0.3, "a weighted PUE of 1.29 is fine")
    rds.xadd(settings.stream_datacenter, sample("dc-1", 1500, 1000, t0))  # 3050 / 2200 = 1.39
    wait_until(lambda: sent(receiver) == [("alert.firing", "pue_high", "dc-1")], what="PUE alert")
    # 1.25 alone, but 4300 / 3200 = 1.34 with the first three: it resolves only because they left the window
    rds.xadd(settings.stream_datacenter, sample("dc-1", 1250, 1000, t0 + 1100))
    wait_until(lambda: sent(receiver)[1:] == [("alert.resolved", "pue_high", "dc-1")], what="PUE resolved")
    assert abs(receiver.deliveries[0].json["data"]["alert"]["value"] - 3050 / 2200) < 1e-9


def test_open_complaints_past_sla(alerting, receiver, rds):
    settings = alerting('id = "past_sla"\ntype = "aggregate"\nfunction = "open_past_sla"\nsla = "1s"\n'
                        'subject = "district"\nthreshold = 1\n')  # fmt: skip
    for request in ("c-1", "c-2"):
        rds.xadd(settings.stream_complaints, complaint(request, "open", now_ms()))
    wait_until(lambda: sent(receiver) == [("alert.firing", "past_sla", "futian")], what="SLA alert")
    rds.xadd(settings.stream_complaints, complaint("c-1", "closed", now_ms(), satisfaction=4))
    wait_until(lambda: sent(receiver)[1:] == [("alert.resolved", "past_sla", "futian")], what="SLA resolved")


def test_a_silenced_alert_is_recorded_and_sends_nothing(alerting, receiver, rds, db):
    now = datetime.now(UTC)
    console.create_silence(db, {"rule": "pm25_high"}, now - timedelta(seconds=5), now + timedelta(hours=1), "li.wei")
    settings = alerting('id = "pm25_high"\ntype = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\n'
                        '[[rule]]\nid = "pm25_very_high"\ntype = "threshold"\nseverity = "critical"\nsummary = "x"\n'
                        'metric = "pm25"\nreduce = "last"\nthreshold = 300\n')  # fmt: skip
    rds.xadd(settings.stream_iot, reading("aq-1", 400))
    wait_until(lambda: sent(receiver) == [("alert.firing", "pm25_very_high", "aq-1")], what="the unsilenced alert")
    assert count(db, "SELECT count(*) FROM alerts WHERE rule_id = 'pm25_high' AND silenced") == 1
    holds_for(lambda: len(receiver.deliveries) == 1, 0.5, "the silenced alert sends nothing")


def test_a_new_leader_resolves_alerts_left_open_by_the_previous_one(alerting, receiver, rds, db, test_settings):
    conn = bootstrap.db_connection(test_settings)
    from alerts.evaluate import Condition

    bootstrap.alert_store(test_settings, conn).apply([Condition("pm25_high", "aq-1", True, 400.0, 150.0, "warning",
                                                                "x", {}, datetime.now(UTC))])  # fmt: skip
    conn.close()
    settings = alerting('id = "pm25_high"\ntype = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\n')
    rds.xadd(settings.stream_iot, reading("aq-1", 20))
    wait_until(lambda: sent(receiver) == [("alert.resolved", "pm25_high", "aq-1")], what="resolved after restart")


def test_a_rising_gauge_raises_a_predicted_alert_that_resolves_when_the_level_is_reached(alerting, receiver, rds,
                                                                                         db):  # fmt: skip
    settings = alerting('id = "wl_forecast"\ntype = "forecast"\nmatch = { kind = "water_level" }\n'
                        'metric = "level_m"\nsubject = "device"\nop = ">="\nthreshold = 2.8\nhorizon = "30m"\n'
                        'window = "10m"\nstep = "1m"\nmin_points = 4\n')  # fmt: skip
    start_ms = (now_ms() // 60_000 - 60) * 60_000  # readings with their own times, from an hour ago, every 10 s
    rise_ms = start_ms + 10 * 60_000  # flat at 1 m for 10 minutes, then 2 m higher 30 minutes later

    def gauge(k: int) -> dict[str, str]:
        ts = start_ms + k * 10_000
        level = 1.0 + max(0, min(ts - rise_ms, 1_800_000)) * 2.0 / 1_800_000
        return reading("wl-1", round(level, 3), ts=ts, kind="water_level", metric="level_m", unit="m")

    fill(rds, settings.stream_iot, [gauge(k) for k in range(6 * 22)])  # 22 minutes: 12 of them rising, 2.33 m
    wait_until(lambda: sent(receiver) == [("alert.firing", "wl_forecast", "wl-1")], what="a predicted alert")
    alert = receiver.deliveries[0].json["data"]["alert"]
    assert alert["predicted"] is True
    expected, earliest = (datetime.fromisoformat(alert[k]) for k in ("expected_at", "expected_earliest"))
    latest, made = datetime.fromisoformat(alert["expected_latest"]), datetime.fromisoformat(alert["forecast_at"])
    breach = datetime.fromtimestamp((rise_ms + 27 * 60_000) / 1000, UTC)  # 1 + 2 * 27/30 = 2.8 m
    assert made < breach and earliest <= expected <= latest
    assert abs(expected - breach) < timedelta(minutes=6)
    row = db.execute("SELECT predicted, expected_at FROM alerts WHERE rule_id = 'wl_forecast'").fetchone()
    assert row[0] is True and row[1] == expected
    fill(rds, settings.stream_iot, [gauge(k) for k in range(6 * 22, 6 * 45)])  # on past 2.8 m: it came true
    wait_until(lambda: sent(receiver)[1:] == [("alert.resolved", "wl_forecast", "wl-1")], what="resolved")
    assert count(db, "SELECT count(*) FROM alerts WHERE predicted AND status = 'resolved'") == 1


def test_an_open_predicted_alerts_expected_time_follows_a_changed_ramp_without_a_webhook(alerting, receiver, rds,
                                                                                         db):  # fmt: skip
    settings = alerting('id = "wl_forecast"\ntype = "forecast"\nmatch = { kind = "water_level" }\n'
                        'metric = "level_m"\nsubject = "device"\nop = ">="\nthreshold = 2.8\nhorizon = "1h"\n'
                        'window = "10m"\nstep = "1m"\nmin_points = 4\n')  # fmt: skip
    start_ms = (now_ms() // 60_000 - 60) * 60_000  # readings with their own times, from an hour ago, every 10 s
    rise_ms = start_ms + 10 * 60_000  # flat at 1 m for 10 minutes, then 2 m higher 30 minutes later ...
    turn_ms = rise_ms + 12 * 60_000  # ... until 1.8 m; from there half as steep: 2.8 m 30 minutes on, not 15

    def gauge(k: int) -> dict[str, str]:
        ts = start_ms + k * 10_000
        level = 1.0 + max(0, ts - rise_ms) * 2.0 / 1_800_000 if ts < turn_ms else 1.8 + (ts - turn_ms) / 1_800_000
        return reading("wl-1", round(level, 3), ts=ts, kind="water_level", metric="level_m", unit="m")

    def stored(near: datetime) -> tuple | None:
        row = db.execute("SELECT id, expected_at, forecast_at FROM alerts WHERE rule_id = 'wl_forecast'"
                         " AND status <> 'resolved'").fetchone()  # fmt: skip
        return row if row is not None and abs(row[1] - near) < timedelta(minutes=2) else None

    fill(rds, settings.stream_iot, [gauge(k) for k in range(6 * 22)])  # up to the turn: the first ramp only
    wait_until(lambda: sent(receiver) == [("alert.firing", "wl_forecast", "wl-1")], what="a predicted alert")
    first_breach = datetime.fromtimestamp((rise_ms + 27 * 60_000) / 1000, UTC)  # 1 + 2 * 27/30 = 2.8 m
    alert_id, expected, made = wait_until(lambda: stored(first_breach), what="the first ramp's forecast")
    fill(rds, settings.stream_iot, [gauge(k) for k in range(6 * 22, 6 * 37)])  # 15 minutes of the gentler ramp
    second_breach = datetime.fromtimestamp((turn_ms + 30 * 60_000) / 1000, UTC)  # 1.8 + 30/30 = 2.8 m
    same_id, revised, revised_made = wait_until(lambda: stored(second_breach), what="the stored forecast following")
    assert same_id == alert_id and revised - expected > timedelta(minutes=10) and revised_made > made
    # Written in place: the one alert, its one "fired" event (which keeps the forecast it fired with), and the one
    # webhook message queued when it fired; none for the revisions.
    assert count(db, "SELECT count(*) FROM alerts WHERE rule_id = 'wl_forecast'") == 1
    events = db.execute("SELECT action, details FROM alert_events WHERE alert_id = %s", (alert_id,)).fetchall()
    assert [action for action, _ in events] == ["fired"]
    fired_with = receiver.deliveries[0].json["data"]["alert"]["expected_at"]
    assert datetime.fromisoformat(events[0][1]["expected_at"]) == datetime.fromisoformat(fired_with)
    assert count(db, "SELECT count(*) FROM alert_outbox WHERE alert_id = %s", alert_id) == 1
