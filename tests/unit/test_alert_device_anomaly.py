"""Per-device anomaly rules: each device's hourly means as the evaluator counts them, which hours a refresh loads,
baselines from the database's summaries, and the judge per device (pure)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest

from alerts.anomaly import Baseline, LocalHours
from alerts.device_hours import DeviceHours, HourMean, baselines_from_summaries, buckets_wanted, hours_wanted
from alerts.evaluate import Evaluator
from alerts.rules import load_rules, parse_rules
from i18n.alert_text import summary_in
from i18n.catalog import translations
from settings import Settings
from streams.iot import SensorReading

# 2027-01-15 06:30 UTC is 14:30 in Shenzhen (UTC+8): the middle of the 14:00 hour.
T0 = datetime(2027, 1, 15, 6, 30, tzinfo=UTC).timestamp()
H0 = T0 - 1800  # the start of that hour
RULE = ('[[rule]]\nid = "noise_device_unusual"\ntype = "anomaly"\nseverity = "info"\nmetric = "laeq_db"\n'
        'summary = "Noise at {subject} is {value:.0f} dB, usual for {hour} is {usual:.0f} dB"\n'
        'match = { kind = "noise" }\nsubject = "device"\nthreshold = 5\nmin_mad = 1\nwindow = "5m"\n')  # fmt: skip
SHANGHAI = LocalHours("Asia/Shanghai")


def reading(s: float, value: float, device: str = "ns-1", district: str = "nanshan", kind: str = "noise",
            metric: str = "laeq_db") -> SensorReading:  # fmt: skip
    return SensorReading(datetime.fromtimestamp(T0 + s, UTC), device, kind, metric, value, "dB", 22.5, 114.0,
                         district, None, f"{s}-0")  # fmt: skip


def count(hours: DeviceHours, *readings: SensorReading) -> None:
    for r in readings:
        hours.observe(r, r.ts.timestamp(), r.ts.timestamp())


# --- counting the hours -------------------------------------------------------------------------------------------
def test_a_device_s_hour_closes_when_its_next_hour_begins():
    hours = DeviceHours()
    count(hours, reading(0, 60), reading(60, 62), reading(0, 50, device="ns-2"))
    assert hours.pending() == [] and len(hours) == 2  # both hours still open
    count(hours, reading(1800, 70))  # ns-1's 15:00 begins
    assert hours.pending() == [HourMean("laeq_db", "ns-1", H0, "noise", "nanshan", 2, 122.0)]
    hours.written()
    assert hours.pending() == []
    count(hours, reading(1801, 72), reading(5400, 40))  # 15:00 holds two readings, then 16:00 begins
    assert hours.pending() == [HourMean("laeq_db", "ns-1", H0 + 3600, "noise", "nanshan", 2, 142.0)]


def test_a_late_reading_is_added_to_its_own_hour_not_to_the_open_one():
    hours = DeviceHours()
    count(hours, reading(0, 60), reading(1800, 70), reading(10, 64))  # 64 belongs to 14:00, already closed
    assert hours.pending() == [HourMean("laeq_db", "ns-1", H0, "noise", "nanshan", 2, 124.0)]
    hours.written()
    count(hours, reading(20, 66))  # 14:00 was written: this one is queued alone, and the table adds it
    assert hours.pending() == [HourMean("laeq_db", "ns-1", H0, "noise", "nanshan", 1, 66.0)]


def test_the_clock_closes_the_hour_of_a_device_gone_quiet_and_forgets_it():
    hours = DeviceHours()
    count(hours, reading(0, 60), reading(1700, 62, device="ns-2"))
    assert hours.close_before(H0 + 3600 - 1) == 0  # 14:00 has not ended yet
    assert hours.close_before(H0 + 3600 + 120) == 2
    assert len(hours) == 0 and [h.device_id for h in hours.pending()] == ["ns-1", "ns-2"]


def test_each_metric_of_a_device_has_its_own_hours_and_close_all_closes_partial_hours():
    hours = DeviceHours()
    count(hours, reading(0, 30, metric="pm25"), reading(0, 60))
    hours.close_all()
    assert sorted((h.metric, h.value_sum) for h in hours.pending()) == [("laeq_db", 60.0), ("pm25", 30.0)]


def test_memory_is_bounded_by_the_devices_and_the_hours_waiting_to_be_written():
    hours = DeviceHours(max_devices=2, max_closed=2)
    count(hours, reading(0, 60, device="a"), reading(0, 60, device="b"), reading(0, 60, device="c"))
    assert (len(hours), hours.refused) == (2, 1)  # a third device is not counted
    count(hours, reading(3600, 1, device="a"), reading(3600, 1, device="b"))
    hours.close_all()  # two more closed hours would make four: the queue keeps two (the database is away)
    assert (len(hours.pending()), hours.dropped) == (2, 2)


# --- what a refresh loads -----------------------------------------------------------------------------------------
def test_a_refresh_loads_the_hours_it_can_judge_by_until_the_next_one_and_their_neighbours():
    now = T0 + 20 * 60  # 14:50 in Shenzhen
    # the window (5 min) and half an hour behind: 14:00; an hour ahead and half an hour more: 15:00 and 16:00
    assert hours_wanted(now, 300, 3600, SHANGHAI) == frozenset({14, 15, 16})
    assert hours_wanted(now - 45 * 60, 900, 3600, SHANGHAI) == frozenset({13, 14, 15})  # 14:05, a 15-minute window
    assert hours_wanted(now, 300, 86400, SHANGHAI) == frozenset(range(24))


def test_the_buckets_are_those_hours_on_each_of_the_days_in_the_city_s_time():
    until = H0  # the current hour, 14:00 local, is not history
    buckets = buckets_wanted(until, 3, frozenset({13, 14}), SHANGHAI)
    assert len(buckets) == 6 and all(SHANGHAI(b) in (13, 14) for b in buckets)
    assert min(buckets) == until - 3 * 86400 and max(buckets) == until - 3600  # 14:00 three days ago … 13:00 today
    new_york = LocalHours("America/New_York")  # 2027-03-14: clocks go forward at 02:00, 09:00 is still 09:00
    spring = datetime(2027, 3, 16, 0, tzinfo=UTC).timestamp()
    assert [datetime.fromtimestamp(b, UTC).hour for b in buckets_wanted(spring, 3, frozenset({9}), new_york)] == [
        14, 13, 13]  # fmt: skip


def test_baselines_come_from_the_database_s_summaries_per_device_and_hour():
    base = baselines_from_summaries([("ns-1", 14, 64.0, 1.0, 10), ("ns-1", 15, 70.0, 2.0, 9)], SHANGHAI)
    assert base.at("ns-1", T0) == (14, Baseline(64.0, 1.0, 10))
    assert base.at("ns-1", T0 + 45 * 60)[1] == Baseline(68.5, 1.75, 9)  # 15:15: a quarter of the way to 14:30
    assert base.at("ns-2", T0) == (14, None)


# --- the rule and the judge -----------------------------------------------------------------------------------------
def test_an_anomaly_rule_may_watch_a_device():
    [rule] = parse_rules(tomllib.loads(RULE))
    assert (rule.subject, rule.metric, rule.baseline_days, rule.min_history) == ("device", "laeq_db", 14, 7)
    [district] = parse_rules(tomllib.loads(RULE.replace('subject = "device"\n', "")))
    assert district.subject == "district"  # still the default


def evaluator(extra: str = "") -> Evaluator:
    ev = Evaluator(parse_rules(tomllib.loads(RULE + extra)), started=T0)
    ev.set_baselines(
        "noise_device_unusual",
        baselines_from_summaries(
            [("ns-1", 14, 64.0, 0.5, 10), ("ns-2", 14, 50.0, 0.5, 10), ("ns-3", 14, 64.0, 0.5, 6)], SHANGHAI
        ),
    )
    return ev


def feed(ev: Evaluator, s: float, value: float, **kw) -> list[tuple[str, bool, float]]:
    return [(c.subject, c.firing, round(c.value, 1)) for c in ev.observe("iot", [reading(s, value, **kw)], T0 + s)]


def test_each_device_is_judged_against_its_own_usual_and_resolves_when_back():
    ev = evaluator()  # 5 spreads of at least 1.48 dB: 7.4 dB from usual
    assert feed(ev, 0, 62, device="ns-2") == [("ns-2", True, 62)]  # 12 dB above its own 50
    assert feed(ev, 0, 62) == []  # ns-1 usually reads 64 here
    assert feed(ev, 1, 99, device="ns-3") == []  # 6 days of history: under min_history, never judged
    assert feed(ev, 400, 51, device="ns-2") == [("ns-2", False, 51)]
    [c] = [c for c in ev.observe("iot", [reading(401, 80)], T0 + 401) if c.firing]
    assert c.summary == "Noise at ns-1 is 80 dB, usual for 14:00 is 64 dB" and c.annotations["days"] == 10


def test_two_rules_on_one_metric_count_a_reading_once_and_other_readings_not_at_all():
    second = RULE.replace('"noise_device_unusual"', '"noise_device_quiet"').replace("threshold = 5", "threshold = 8")
    ev = Evaluator(parse_rules(tomllib.loads(RULE + second)), started=T0)
    ev.observe("iot", [reading(0, 60), reading(0, 30, kind="air_quality", metric="pm25")], T0)
    ev.device_hours.close_all()
    assert ev.device_hours.pending() == [HourMean("laeq_db", "ns-1", H0, "noise", "nanshan", 1, 60.0)]
    ev.observe("iot", [reading(3600, 61)], T0 + 3600)
    ev.tick(T0 + 2 * 3600)  # a minute has passed: the clock closes the hour of a device gone quiet
    assert [h.bucket for h in ev.device_hours.pending()] == [H0, H0 + 3600]
    plain = Evaluator(parse_rules(tomllib.loads(RULE.replace('subject = "device"\n', ""))), started=T0)
    assert plain.device_hours is None  # a district rule reads the rollups ingest writes


@pytest.mark.parametrize("late", [1, 2])
def test_a_late_reading_counts_for_its_hour_whatever_the_order(late):
    hours = DeviceHours()
    ordered = [reading(0, 60), reading(1800, 70), reading(10, 64)]
    count(hours, *(ordered if late == 1 else [ordered[0], ordered[2], ordered[1]]))
    hours.close_all()
    assert sorted((h.bucket, h.readings, h.value_sum) for h in hours.pending()) == [
        (H0, 2, 124.0),
        (H0 + 3600, 1, 70.0),
    ]


def test_the_shipped_per_device_rule_watches_noise_sensors_and_is_written_in_each_language():
    rule = next(r for r in load_rules(Settings().alert_rules_file) if r.id == "noise_device_unusual")
    assert (rule.subject, rule.metric, rule.direction, dict(rule.match)) == (
        "device", "laeq_db", "above", {"kind": frozenset({"noise"})})  # fmt: skip
    alert = {"rule_id": rule.id, "subject": "sz-ns-futian-00042", "value": 79.6, "threshold": 5.0, "labels": {},
             "annotations": {"usual": 61.2, "spread": 1.48, "score": 12.4, "hour": "02:00", "days": 14}}  # fmt: skip
    assert summary_in(alert, {rule.id: rule}, "en", translations("en")) == (
        "Noise at sz-ns-futian-00042 is 80 dB(A), usual for 02:00 is 61 dB(A) (±1)")  # fmt: skip
    assert summary_in(alert, {rule.id: rule}, "zh-CN", translations("zh-CN")) == (
        "sz-ns-futian-00042 的噪声为 80 dB(A)，02:00 时段通常为 61 dB(A)（±1）")  # fmt: skip
    assert summary_in(alert, {rule.id: rule}, "th", translations("th")).startswith("เสียงที่ sz-ns-futian-00042 ดัง 80")
