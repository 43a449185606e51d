"""Forecast rules: validation, and a judge that warns before a level is reached and resolves (pure)."""

from __future__ import annotations

import gettext
import tomllib
from datetime import UTC, datetime

import pytest

from alerts.evaluate import Evaluator
from alerts.forecast_judge import FITS_PER_TICK, ForecastJudge, Prediction, StepSeries, moved
from alerts.rules import RuleError, load_rules, parse_rules
from i18n.alert_text import summary_in
from settings import Settings
from streams.iot import SensorReading

T0 = 1_800_000_000.0  # a multiple of 60: steps start on the minute
RULE = """
[[rule]]
id = "wl_forecast"
type = "forecast"
severity = "warning"
summary = "{subject} will reach {threshold} m in about {expected_in} ({confidence}: {interval})"
match = { kind = "water_level" }
metric = "level_m"
subject = "device"
op = ">="
threshold = 2.8
horizon = "30m"
window = "10m"
step = "1m"
min_points = 4
keep_firing_for = "2m"
"""


def reading(s: float, value: float, device: str = "wl-0042") -> SensorReading:
    return SensorReading(datetime.fromtimestamp(T0 + s, UTC), device, "water_level", "level_m", value, "m", 22.5,
                         114.0, "futian", None, f"{s}-0")  # fmt: skip


def evaluator(rule: str = RULE) -> Evaluator:
    return Evaluator(parse_rules(tomllib.loads(rule)), started=T0)


def run(ev: Evaluator, level_at, seconds: int, every: int = 10, start: int = 0, device: str = "wl-0042") -> list:
    """Readings every ``every`` s from ``start`` for ``seconds``, ticking each second a reading comes; the
    conditions raised, with the second they were raised at."""
    out = []
    for s in range(start, start + seconds, every):
        out += [(s, c) for c in ev.observe("iot", [reading(s, level_at(s), device)], T0 + s)]
        out += [(s, c) for c in ev.tick(T0 + s)]
    return out


def flood(s: float) -> float:
    """1 m until 600 s, then rising 2 m in 30 minutes (the simulator's flood ramp)."""
    return 1.0 + max(0.0, min(s - 600, 1800)) * 2.0 / 1800


# --- validation -------------------------------------------------------------------------------------------------
def test_the_shipped_forecast_rules_are_valid():
    rules = {r.id: r for r in load_rules(Settings().alert_rules_file)}
    water = rules["water_level_forecast"]
    assert (water.type, water.subject, water.op, water.threshold) == ("forecast", "device", ">=", 2.8)
    assert (water.horizon_s, water.window_s, water.step_s, water.min_points, water.confidence) == (
        1800.0,
        600.0,
        60.0,
        4,
        0.8,
    )
    assert rules["pm25_district_forecast"].subject == "district"


@pytest.mark.parametrize(("change", "expected"), [
    ('horizon = "2d"', "field 'horizon': at most 1d"),
    ("min_points = 2", "field 'min_points': a whole number of steps, at least 3"),
    ("min_points = 4.5", "field 'min_points': a whole number of steps, at least 3"),
    ("confidence = 0.3", "field 'confidence': a fraction from 0.5 to 0.99"),
    ('window = "3m"', "field 'window': 180 s holds 3 steps of 60 s, fewer than min_points (4)"),
    ('window = "10h"', "field 'window': at most 512 steps"),
    ('summary = "{subject} in {eta}"', "field 'summary': unknown placeholder 'eta'"),
    ('subject = "stream"', "field 'subject': 'stream' is not one of device, district"),
    ('reduce = "max"', "field 'reduce': not used by a forecast rule"),
])  # fmt: skip
def test_mistakes_in_a_forecast_rule_are_named(change: str, expected: str):
    name = change.split("=")[0].strip()
    text = "\n".join(line for line in RULE.splitlines() if not line.startswith(name + " ")) + "\n" + change
    with pytest.raises(RuleError) as caught:
        parse_rules(tomllib.loads(text))
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_forecast_fields_mean_nothing_to_other_rules():
    text = RULE.replace('type = "forecast"', 'type = "threshold"')
    with pytest.raises(RuleError) as caught:
        parse_rules(tomllib.loads(text))
    assert "field 'horizon': not used by a threshold rule" in caught.value.problems[0]


# --- the judge --------------------------------------------------------------------------------------------------
def test_a_rising_gauge_raises_a_predicted_alert_with_its_expected_time_and_interval():
    ev = evaluator()
    raised = run(ev, flood, 1500)
    firing = [(s, c) for s, c in raised if c.firing]
    assert len(firing) == 1
    s, c = firing[0]
    assert 600 < s < 600 + 1620 / 2  # warned before half-way from the start of the rise to the 2.8 m breach
    p = c.prediction
    assert p is not None and p.earliest <= p.expected <= p.latest
    assert p.expected == pytest.approx(T0 + 600 + 1620, abs=300)  # 2.8 m is reached 1620 s into the rise
    assert c.summary.startswith("wl-0042 will reach 2.8 m in about ")
    assert "(80%: " in c.summary and "minutes)" in c.summary


def test_it_resolves_when_the_level_is_reached_and_the_plain_rule_takes_over():
    ev = evaluator()
    raised = run(ev, flood, 3000)
    changes = [(s, c.firing) for s, c in raised]
    assert [f for _, f in changes] == [True, False]
    resolved_at = changes[1][0]
    reached = 600 + 1620
    assert reached <= resolved_at <= reached + 120 + 60  # keep_firing_for 2m after the level came true


def test_it_resolves_when_the_forecast_clears():
    def rise_then_fall(s: float) -> float:
        return flood(s) if s < 1300 else max(1.0, flood(1300) - (s - 1300) * 0.002)

    raised = run(evaluator(), rise_then_fall, 3000)
    assert [c.firing for _, c in raised] == [True, False]
    assert max(rise_then_fall(s) for s in range(0, 3000, 10)) < 2.8  # it never got there: the forecast cleared


def test_it_needs_min_points_of_history():
    ev = evaluator(RULE.replace("min_points = 4", "min_points = 8"))
    steep = run(ev, lambda s: 1.0 + s * 0.002, 7 * 60 + 30)  # reaches 2.8 m in 15 minutes, but only 7 steps seen
    assert steep == []
    assert any(c.firing for _, c in run(ev, lambda s: 1.0 + s * 0.002, 120, start=7 * 60 + 30))


def test_flat_and_tidal_gauges_never_warn():
    import math

    tide = run(evaluator(), lambda s: 1.2 + 0.5 * math.sin(2 * math.pi * s / (12.42 * 3600)), 6 * 3600, every=30)
    assert tide == []


def test_a_wild_reading_does_not_raise_a_warning():
    raised = run(evaluator(), lambda s: 5.0 if s == 900 else 1.0, 1800)
    assert [c for _, c in raised if c.firing] == []


def test_memory_is_bounded_per_subject_and_forgotten_subjects_go():
    ev = evaluator()
    run(ev, flood, 3 * 3600)
    judge = ev.judges["wl_forecast"]
    assert isinstance(judge, ForecastJudge)
    assert len(judge.series["wl-0042"].means) == 10  # window / step
    for n in range(5):
        run(ev, lambda s: 1.0, 120, start=3 * 3600, device=f"wl-{n}")
    assert len(judge.series) == 6
    assert ev.forget(T0 + 3 * 3600 + 60) == 1 and "wl-0042" not in judge.series


def test_a_step_series_keeps_means_and_ignores_closed_steps():
    series = StepSeries(60.0, 3)
    assert series.push(0, 1.0) is False and series.push(30, 3.0) is False
    assert series.push(60, 10.0) is True and list(series.means) == [2.0] and list(series.times) == [30.0]
    assert series.push(59, 100.0) is False and series.current == 10.0  # late for a closed step: left out
    for s in range(120, 600, 60):
        series.push(s, s)
    assert len(series.means) == 3


def test_the_summary_is_written_again_in_the_readers_language():
    rule = parse_rules(tomllib.loads(RULE))[0]
    made = datetime.fromtimestamp(T0, UTC)
    alert = {"rule_id": "wl_forecast", "subject": "wl-0042", "value": 2.1, "threshold": 2.8, "predicted": True,
             "forecast_at": made, "expected_at": datetime.fromtimestamp(T0 + 1500, UTC),
             "expected_earliest": datetime.fromtimestamp(T0 + 1080, UTC), "expected_latest": None,
             "summary": "as it fired"}  # fmt: skip
    text = summary_in(alert, {"wl_forecast": rule}, "en", gettext.NullTranslations())
    assert text == "wl-0042 will reach 2.8 m in about 25 minutes (80%: 18 minutes or later)"


def test_refits_wait_for_the_clock_and_a_tick_does_at_most_its_budget():
    ev = evaluator()
    judge = ev.judges["wl_forecast"]
    devices = [f"wl-{n:03d}" for n in range(3 * FITS_PER_TICK)]
    for s in range(0, 20 * 60, 10):  # every gauge rising fast, readings only: nothing fitted on their path
        ev.observe("iot", [reading(s, 1.0 + s * 0.001, d) for d in devices], T0 + s)
    assert judge.fits == 0 and len(judge.due) == len(devices)
    fired = [c for c in ev.tick(T0 + 1200) if c.firing]
    assert judge.fits == FITS_PER_TICK and len(fired) == FITS_PER_TICK
    ev.tick(T0 + 1201)
    ev.tick(T0 + 1202)
    assert judge.fits == 3 * FITS_PER_TICK and not judge.due


def test_each_subject_steps_on_its_own_offset():
    series = StepSeries(60.0, 5, offset=15.0)
    series.push(20.0, 1.0)
    assert series.newest == 15.0
    assert series.push(74.0, 2.0) is False and series.push(75.0, 3.0) is True
    assert list(series.times) == [45.0]


# --- forecasts of open alerts, revised ------------------------------------------------------------------------
def held(expected: float, earliest: float | None = None, latest: float | None = None, made: float = 0.0):
    return Prediction(made, expected, expected - 300 if earliest is None else earliest,
                      expected + 600 if latest is None else latest, 0.8)  # fmt: skip


@pytest.mark.parametrize(("before", "after", "written"), [
    (held(1800), held(2010), True),  # a lead of 2010 s (made at 0): 201 s of tolerance, and it moved 210 s
    (held(1800), held(1990), False),  # 190 s, under its 199 s
    (held(1800), held(1640), False),  # earlier alike: 160 s under 164 s
    (held(1800), held(1620), True),  # 180 s over 162 s
    (held(600), held(540), False),  # a 9-minute lead: the minute is the tolerance, and it moved exactly that
    (held(600), held(530), True),
    (held(1800), held(1800, earliest=1300), True),  # the interval's near end moved though the expected time did not
    (held(1800), held(1800, latest=2600), True),
    (held(1800), held(1800)._replace(latest=None), True),  # bounded → open
])  # fmt: skip
def test_a_forecast_is_written_again_when_it_moved_over_a_minute_and_a_tenth_of_the_lead(before, after, written):
    assert moved(before, after) is written


def test_an_unknown_forecast_is_always_written():
    assert moved(None, held(1800)) is True  # after a restart the row's forecast is not known: write the first fit


def changed_ramp(s: float) -> float:
    """The flood ramp (2 m in 30 minutes from 600 s) until 1320 s (1.8 m), then half as steep: 2.8 m is reached at
    1320 + 1800 = 3120 s instead of 2220 s."""
    return flood(s) if s < 1320 else flood(1320) + (s - 1320) * 1.0 / 1800


def revisions_of(ev: Evaluator, level_at, seconds: int, start: int = 0) -> tuple[list, list]:
    """Run like ``run``, also taking the revisions after every tick: (conditions, revisions) with their seconds."""
    raised, revised = [], []
    for s in range(start, start + seconds, 10):
        raised += [(s, c) for c in ev.observe("iot", [reading(s, level_at(s))], T0 + s)]
        raised += [(s, c) for c in ev.tick(T0 + s)]
        revised += [(s, c) for c in ev.take_revisions()]
    return raised, revised


def test_an_open_alerts_forecast_follows_a_changed_ramp_and_nothing_else_is_raised():
    ev = evaluator(RULE.replace('horizon = "30m"', 'horizon = "1h"'))
    raised, revised = revisions_of(ev, changed_ramp, 2700)
    assert [c.firing for _, c in raised] == [True]  # one alert: revisions are not conditions
    # While the readings follow the first ramp the forecast settles on its 2.8 m at 2220 s ...
    first_ramp = [c.prediction.expected for s, c in revised if s < 1320]
    assert first_ramp and first_ramp[-1] == pytest.approx(T0 + 2220, abs=120)
    last = revised[-1][1]  # ... and then the second ramp's
    assert last.firing and last.rule_id == "wl_forecast" and last.subject == "wl-0042"
    assert last.prediction.expected == pytest.approx(T0 + 3120, abs=120)  # the second ramp's
    assert last.summary.startswith("wl-0042 will reach 2.8 m in about ")
    assert all(s > raised[0][0] for s, _ in revised)  # only while the alert is open
    for (_, before), (_, after) in zip(revised, revised[1:], strict=False):
        assert moved(before.prediction, after.prediction)  # each one moved past the tolerance from the last


def test_a_forecast_that_holds_still_is_not_written_again():
    ev = evaluator(RULE.replace('horizon = "30m"', 'horizon = "1h"'))
    _raised, revised = revisions_of(ev, flood, 2000)
    settled = 600 + 600 + 60  # from here the 10-minute window holds the ramp only: every fit says the same
    assert [s for s, _ in revised if s > settled] == []


def test_a_resolved_alert_has_no_revision_waiting():
    ev = evaluator(RULE.replace('horizon = "30m"', 'horizon = "1h"'))
    raised = run(ev, changed_ramp, 1100)  # revisions not taken: they wait
    judge = ev.judges["wl_forecast"]
    assert [c.firing for _, c in raised] == [True] and judge.revisions and "wl-0042" in judge.written
    judge.judge("wl-0042", False, 1.0, T0 + 1110)
    assert judge.judge("wl-0042", False, 1.0, T0 + 1110 + 120).firing is False  # keep_firing_for 2m: resolved
    assert ev.take_revisions() == [] and "wl-0042" not in judge.written


def test_forgotten_subjects_leave_no_forecast_behind():
    ev = evaluator(RULE.replace('horizon = "30m"', 'horizon = "1h"'))
    run(ev, changed_ramp, 1100)
    judge = ev.judges["wl_forecast"]
    assert ev.forget(T0 + 1200) == 1
    assert not judge.written and not judge.revisions and not judge.predictions


def test_a_new_leader_writes_its_first_forecast_of_an_alert_it_restored():
    # Restored mid-ramp, with the shipped keep_firing_for (2m), shorter than the min_points steps (4m) this
    # leader needs before its first fit: the alert stays open until then, neither resolved nor fired again.
    ev = evaluator(RULE.replace('horizon = "30m"', 'horizon = "1h"'))
    ev.assume_firing("wl_forecast", "wl-0042", T0 + 900)
    raised, revised = revisions_of(ev, changed_ramp, 600, start=900)
    assert raised == []  # the alert is open already: nothing fires again
    assert revised and revised[0][1].prediction is not None  # the row gets the forecast of this leader's first fit
