"""Evaluation is pure: records and a clock in, conditions out, only when an alert starts or stops."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

from alerts.evaluate import Evaluator, HeardDevice, HeardSite
from alerts.hold import FIRING, OK, PENDING, RECOVERING, Hold, step
from alerts.rules import parse_rules
from alerts.windows import RatioWindow, SlidingWindow
from streams.complaints import ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading

T0 = 1_800_000_000.0


def at(s: float) -> datetime:
    return datetime.fromtimestamp(T0 + s, UTC)


def reading(s: float, value: float, device: str = "aq-1", district: str = "futian", kind: str = "air_quality",
            metric: str = "pm25") -> SensorReading:  # fmt: skip
    return SensorReading(at(s), device, kind, metric, value, "", 22.5, 114.0, district, None, f"{s}-0")


def sample(s: float, facility: float, it: float, site: str = "dc1") -> PowerSample:
    return PowerSample(at(s), site, facility, it, None, None, None, f"{s}-0")


def complaint(s: float, request: str, status: str = "open", district: str = "futian") -> ComplaintEvent:
    return ComplaintEvent(at(s), request, status, "noise", district, 22.5, 114.0, "app", None, None, None, f"{s}-0")


def evaluator(rule: str) -> Evaluator:
    text = '[[rule]]\nid = "r"\nseverity = "warning"\nsummary = "{subject} {value:.2f}"\n' + rule
    return Evaluator(parse_rules(tomllib.loads(text)), started=T0)


def feed(ev: Evaluator, kind: str, record, s: float) -> list[tuple[str, bool, float]]:
    return [(c.subject, c.firing, round(c.value, 3)) for c in ev.observe(kind, [record], T0 + s)]


def tick(ev: Evaluator, s: float) -> list[tuple[str, bool, float]]:
    return [(c.subject, c.firing, round(c.value, 3)) for c in ev.tick(T0 + s)]


# --- the hold state machine -----------------------------------------------------------------------------------
def test_hold_fires_after_for_and_resolves_after_keep_firing_for():
    hold = Hold()
    assert step(hold, True, 1, 0, for_s=60, keep_s=30) is None and hold.status == PENDING
    assert step(hold, True, 1, 59, 60, 30) is None
    assert step(hold, True, 1, 60, 60, 30) == FIRING
    assert step(hold, False, 0, 70, 60, 30) is None and hold.status == RECOVERING
    assert step(hold, True, 1, 80, 60, 30) is None and hold.status == FIRING  # flap: same alert, nothing sent
    assert step(hold, False, 0, 90, 60, 30) is None
    assert step(hold, False, 0, 120, 60, 30) == OK


def test_a_breach_shorter_than_for_never_fires():
    hold = Hold()
    step(hold, True, 1, 0, 60, 0)
    assert step(hold, False, 0, 30, 60, 0) is None and hold.status == OK
    assert step(hold, True, 1, 40, 60, 0) is None and step(hold, True, 1, 99, 60, 0) is None
    assert step(hold, True, 1, 100, 60, 0) == FIRING


# --- windows --------------------------------------------------------------------------------------------------
def test_sliding_window_keeps_only_its_span():
    w = SlidingWindow(60)
    for t, v in [(0, 5), (10, 1), (20, 9), (70, 3)]:
        w.push(t, v)
    assert len(w) == 3 and w.reduce("min") == 1 and w.reduce("max") == 9 and w.reduce("mean") == 13 / 3
    w.push(80, 4)  # drops (10, 1); (20, 9) is exactly 60 s old and stays
    assert w.reduce("min") == 3 and w.reduce("first") == 9 and w.reduce("last") == 4


def test_a_late_value_counts_within_the_window_but_is_never_the_last_and_one_older_than_it_changes_nothing():
    w = SlidingWindow(60)
    assert w.push(100, 5) and w.push(110, 7)
    assert w.push(90, 1)  # late, within the window: it counts for min and mean
    assert w.reduce("min") == 1 and w.reduce("mean") == 13 / 3
    assert w.reduce("last") == 7 and w.newest == 110  # the newest by its own time stays the last
    assert not w.push(30, 500)  # a day-old dead letter replayed: left out
    assert w.reduce("max") == 7 and len(w) == 3


def test_a_replayed_old_reading_neither_resolves_nor_fires_a_threshold_on_the_last_value():
    ev = evaluator('type = "threshold"\nmetric = "pm25"\nsubject = "device"\nreduce = "last"\nwindow = "5m"\n'
                   'threshold = 150')  # fmt: skip
    assert feed(ev, "iot", reading(600, 200), 600) == [("aq-1", True, 200.0)]
    assert feed(ev, "iot", reading(0, 20), 601) == []  # ten minutes old, replayed: the alert stays open
    assert feed(ev, "iot", reading(599, 20), 602) == []  # late by a second: counted, but 200 is still the last


def test_ratio_window_is_energy_weighted():
    w = RatioWindow(900)
    w.push(0, 1300, 1000)
    w.push(60, 200, 100)  # an instantaneous PUE of 2.0 at a tenth of the load
    assert round(w.ratio(), 4) == round(1500 / 1100, 4)  # not the mean of ratios, 1.65


# --- rule types -----------------------------------------------------------------------------------------------
def test_threshold_per_district_holds_then_fires_then_resolves():
    ev = evaluator('type = "threshold"\nmetric = "pm25"\nsubject = "district"\nwindow = "1m"\nthreshold = 150\n'
                   'for = "5m"')  # fmt: skip
    assert feed(ev, "iot", reading(0, 200, "aq-1"), 0) == []
    assert feed(ev, "iot", reading(1, 140, "aq-2"), 1) == []  # district mean 170: still breaching
    assert tick(ev, 299) == []
    assert tick(ev, 300) == [("futian", True, 170.0)]
    assert feed(ev, "iot", reading(301, 160, "aq-1"), 301) == []  # already firing: no duplicate
    assert feed(ev, "iot", reading(400, 10, "aq-1"), 400) == [("futian", False, 10.0)]


def test_threshold_ignores_other_metrics_kinds_and_districts():
    ev = evaluator('type = "threshold"\nmetric = "pm25"\nmatch = { district = "nanshan" }\nthreshold = 150')
    assert feed(ev, "iot", reading(0, 999, district="futian"), 0) == []
    assert feed(ev, "iot", reading(0, 999, metric="pm10", district="nanshan"), 0) == []
    assert feed(ev, "iot", reading(0, 999, district="nanshan"), 0) == [("aq-1", True, 999.0)]


def test_hysteresis_keeps_firing_until_the_clear_threshold():
    ev = evaluator('type = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\nclear_threshold = 135')
    assert feed(ev, "iot", reading(0, 151), 0) == [("aq-1", True, 151.0)]
    assert feed(ev, "iot", reading(10, 140), 10) == []
    assert feed(ev, "iot", reading(20, 134), 20) == [("aq-1", False, 134.0)]


def test_flapping_within_keep_firing_for_sends_nothing_new():
    ev = evaluator('type = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\nkeep_firing_for = "2m"')
    out = [feed(ev, "iot", reading(s, v), s) for s, v in [(0, 200), (10, 100), (20, 200), (30, 100), (40, 200)]]
    assert out == [[("aq-1", True, 200.0)], [], [], [], []]
    feed(ev, "iot", reading(50, 100), 50)
    assert tick(ev, 169) == [] and tick(ev, 170) == [("aq-1", False, 100.0)]


def test_rate_of_change_rising_per_device_within_the_window():
    ev = evaluator('type = "rate"\nmetric = "level_m"\nwindow = "10m"\nthreshold = 0.3')
    gauge = {"device": "wl-1", "kind": "water_level", "metric": "level_m"}
    assert feed(ev, "iot", reading(0, 1.00, **gauge), 0) == []
    assert feed(ev, "iot", reading(300, 1.20, **gauge), 300) == []
    assert feed(ev, "iot", reading(540, 1.35, **gauge), 540) == [("wl-1", True, 0.35)]
    # 11 minutes later the 1.00 has left the window: a rise of 0.15 from 1.20 is no longer alarming
    assert feed(ev, "iot", reading(1200, 1.35, **gauge), 1200) == [("wl-1", False, 0.0)]


def test_rate_falling():
    ev = evaluator('type = "rate"\nmetric = "level_m"\ndirection = "falling"\nthreshold = 0.5')
    gauge = {"device": "wl-1", "kind": "water_level", "metric": "level_m"}
    feed(ev, "iot", reading(0, 3.0, **gauge), 0)
    assert feed(ev, "iot", reading(60, 2.4, **gauge), 60) == [("wl-1", True, 0.6)]


def test_no_data_per_device_fires_on_the_clock_and_resolves_on_the_next_reading():
    ev = evaluator('type = "no_data"\nsubject = "device"\nsilent_for = "10m"')
    feed(ev, "iot", reading(0, 1.0, "wl-1"), 0)
    assert tick(ev, 600) == []
    assert tick(ev, 601) == [("wl-1", True, 601.0)]
    assert tick(ev, 700) == []
    assert feed(ev, "iot", reading(710, 1.0, "wl-1"), 710) == [("wl-1", False, 0.0)]


def test_a_new_leader_misses_devices_and_sites_the_store_heard_within_silent_for():
    ev = evaluator('type = "no_data"\nsubject = "device"\nsilent_for = "10m"\nmatch = { kind = "water_level" }\n'
                   '[[rule]]\nid = "dc"\nseverity = "warning"\nsummary = "s"\ntype = "no_data"\nsource = "datacenter"\n'
                   'subject = "site"\nsilent_for = "2m"')  # fmt: skip
    assert ev.heard_horizons() == {"iot": 600.0, "datacenter": 120.0}
    ev.seed_heard("iot", HeardDevice("wl-1", "water_level", "level_m", "futian"), T0 - 100, T0)
    ev.seed_heard("iot", HeardDevice("wl-2", "water_level", "level_m", "futian"), T0 - 700, T0)  # silent already
    ev.seed_heard("iot", HeardDevice("aq-1", "air_quality", "pm25", "futian"), T0 - 100, T0)  # not this rule's
    ev.seed_heard("datacenter", HeardSite("dc1"), T0 - 30, T0)
    assert tick(ev, 89) == [] and tick(ev, 91) == [("dc1", True, 121.0)]
    assert tick(ev, 500) == [] and tick(ev, 501) == [("wl-1", True, 601.0)]
    assert tick(ev, 5000) == []  # wl-2 and aq-1 are not tracked
    assert feed(ev, "iot", reading(5010, 1.0, "wl-1", kind="water_level", metric="level_m"), 5010) == [
        ("wl-1", False, 0.0)
    ]


def test_what_the_store_heard_never_hides_a_later_reading_or_an_open_alert():
    ev = evaluator('type = "no_data"\nsubject = "device"\nsilent_for = "10m"')
    feed(ev, "iot", reading(0, 1.0, "aq-1"), 0)
    ev.seed_heard("iot", HeardDevice("aq-1", "air_quality", "pm25", "futian"), T0 - 300, T0)  # older than heard
    assert tick(ev, 600) == [] and tick(ev, 601) == [("aq-1", True, 601.0)]
    restarted = evaluator('type = "no_data"\nsubject = "device"\nsilent_for = "10m"')
    restarted.assume_firing("r", "aq-2", T0)
    # The store heard it after the alert opened (ingest ran while no evaluator did): it resolves on the tick.
    restarted.seed_heard("iot", HeardDevice("aq-2", "air_quality", "pm25", "futian"), T0 - 5, T0)
    assert tick(restarted, 1) == [("aq-2", False, 6.0)]


def test_no_data_for_a_whole_stream_counts_from_start():
    ev = evaluator('type = "no_data"\nsource = "complaints"\nsubject = "stream"\nsilent_for = "5m"')
    assert tick(ev, 300) == [] and tick(ev, 301) == [("complaints", True, 301.0)]
    assert feed(ev, "complaints", complaint(302, "c1"), 302) == [("complaints", False, 0.0)]


def test_pue_of_a_site_is_energy_weighted_over_the_window():
    ev = evaluator('type = "aggregate"\nfunction = "pue"\nwindow = "15m"\nthreshold = 1.3')
    assert feed(ev, "datacenter", sample(0, 1250, 1000), 0) == []
    assert feed(ev, "datacenter", sample(60, 280, 200), 60) == []  # 1530 / 1200 = 1.275
    # (1250+280+1400)/(1000+200+1000) = 1.332 > 1.3 fires; the mean of ratios would differ
    assert feed(ev, "datacenter", sample(120, 1400, 1000), 120) == [("dc1", True, 1.332)]
    assert feed(ev, "datacenter", sample(2000, 1100, 1000), 2000) == [("dc1", False, 1.1)]


def test_open_complaints_past_sla_are_counted_on_the_clock():
    ev = evaluator('type = "aggregate"\nfunction = "open_past_sla"\nsla = "48h"\nthreshold = 2\n'
                   'subject = "district"')  # fmt: skip
    for i in range(3):
        feed(ev, "complaints", complaint(i, f"c{i}"), i)
    feed(ev, "complaints", complaint(5, "n1", district="nanshan"), 5)
    assert tick(ev, 48 * 3600) == []
    assert tick(ev, 48 * 3600 + 3) == [("futian", True, 3.0)]
    feed(ev, "complaints", complaint(48 * 3600 + 10, "c0", status="closed"), 48 * 3600 + 10)
    assert tick(ev, 48 * 3600 + 11) == [("futian", False, 2.0)]


def test_seeded_open_complaints_and_restored_alerts_after_a_restart():
    ev = evaluator('type = "aggregate"\nfunction = "open_past_sla"\nsla = "1h"\nthreshold = 0')
    ev.seed_open_complaint("old", T0 - 7200, "futian", "noise")
    assert tick(ev, 0) == [("city", True, 1.0)]
    ev2 = evaluator('type = "threshold"\nmetric = "pm25"\nthreshold = 150')
    ev2.assume_firing("r", "aq-1", T0)
    assert feed(ev2, "iot", reading(1, 20), 1) == [("aq-1", False, 20.0)]


def test_condition_carries_rule_details_and_summary():
    ev = evaluator('type = "threshold"\nmetric = "pm25"\nthreshold = 150\nlabels = { team = "env" }')
    (c,) = ev.observe("iot", [reading(0, 151)], T0)
    assert (c.rule_id, c.severity, c.threshold, c.labels, c.summary) == ("r", "warning", 150.0, {"team": "env"},
                                                                         "aq-1 151.00")  # fmt: skip
    assert c.at == at(0)
