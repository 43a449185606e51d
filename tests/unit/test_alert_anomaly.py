"""Anomaly rules: the robust baseline, the score, the judge (pure), and the rules file's checks."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime

import pytest

from alerts.anomaly import (
    MAD_SCALE,
    Baseline,
    LocalHours,
    baselines_from_days,
    beyond_normal,
    robust_baseline,
    score,
)
from alerts.evaluate import Evaluator, SubjectLimits
from alerts.rules import RuleError, load_rules, parse_rules
from i18n.alert_text import summary_in
from i18n.catalog import translations
from settings import Settings
from streams.iot import SensorReading

# 2027-01-15 06:30 UTC is 14:30 in Shenzhen (UTC+8, no daylight saving): the middle of the 14:00 hour.
T0 = datetime(2027, 1, 15, 6, 30, tzinfo=UTC).timestamp()
DAY = 86400.0
HOUR = 3600.0
RULE = ('[[rule]]\nid = "noise_unusual"\ntype = "anomaly"\nseverity = "warning"\nmetric = "laeq_db"\n'
        'summary = "Noise in {subject} is {value:.0f} dB, usual for {hour} is {usual:.0f} dB (±{spread:.0f})"\n'
        'subject = "district"\nthreshold = 4\nwindow = "5m"\n')  # fmt: skip


def rules(extra: str = "", base: str = RULE):
    floor = "" if "min_mad" in extra else "min_mad = 0.5\n"
    return parse_rules(tomllib.loads(base + floor + extra))


def reading(s: float, value: float, district: str = "nanshan", device: str = "ns-1") -> SensorReading:
    return SensorReading(datetime.fromtimestamp(T0 + s, UTC), device, "noise", "laeq_db", value, "dB", 22.5, 114.0,
                         district, None, f"{s}-0")  # fmt: skip


def history(values_by_day: list[float], district: str = "nanshan", shape: dict[int, float] | None = None):
    """Hourly rollup means of the past days, newest first: 12:00 to 16:00 local read the day's value plus
    ``shape[hour - 14]`` (flat by default, so interpolating between hours changes nothing)."""
    shape = shape or {}
    return [(district, T0 - HOUR / 2 - day * DAY + h * HOUR, value + shape.get(h, 0.0))
            for day, value in enumerate(values_by_day, start=1) for h in range(-2, 3)]  # fmt: skip


def evaluator(extra: str = "", days: list[float] | None = None, base: str = RULE) -> Evaluator:
    ev = Evaluator(rules(extra, base), started=T0)
    rule = ev.anomaly_rules()[0]
    ev.set_baselines(rule.id, baselines_from_days(history(days or [64, 65, 63, 64, 66, 62, 64, 65, 63, 64]),
                                                  "Asia/Shanghai", rule.baseline_days))  # fmt: skip
    return ev


def feed(ev: Evaluator, s: float, value: float, **kw) -> list[tuple[str, bool, float]]:
    return [(c.subject, c.firing, round(c.value, 1)) for c in ev.observe("iot", [reading(s, value, **kw)], T0 + s)]


# --- the robust baseline ---------------------------------------------------------------------------------------
def test_median_and_mad_ignore_a_few_odd_days():
    base = robust_baseline([64, 65, 63, 64, 66, 62, 64, 95, 20])  # a jam and a holiday among ordinary days
    assert base == Baseline(usual=64, mad=1, days=9)
    assert score(70, base, min_mad=0.5) == pytest.approx(6 / MAD_SCALE)
    assert robust_baseline([]) is None


def test_the_mad_floor_keeps_a_flat_history_from_making_every_wobble_an_anomaly():
    flat = robust_baseline([50.0] * 10)
    assert flat.mad == 0
    assert score(50.3, flat, min_mad=0.5) == pytest.approx(0.3 / (0.5 * MAD_SCALE))  # not infinite
    assert not beyond_normal(score(50.3, flat, 0.5), "both", 4)
    assert beyond_normal(score(54, flat, 0.5), "both", 4)


@pytest.mark.parametrize(("signed", "direction", "breaching"), [
    (5, "above", True), (-5, "above", False), (5, "below", False), (-5, "below", True), (-5, "both", True),
    (3.9, "both", False), (4.0, "both", False),
])  # fmt: skip
def test_direction(signed, direction, breaching):
    assert beyond_normal(signed, direction, 4) is breaching


def test_hours_are_the_city_s_and_each_keeps_its_newest_days():
    base = baselines_from_days(history([60, 61, 62, 99], shape={-1: -20}), "Asia/Shanghai", days=3)  # day 4: too old
    assert base.by_hour[("nanshan", 14)] == Baseline(61, 1, 3)
    assert base.by_hour[("nanshan", 13)] == Baseline(41, 1, 3)
    assert base.at("nanshan", T0) == (14, Baseline(61, 1, 3))  # the middle of the hour: the hour's own
    assert base.at("futian", T0) == (14, None)
    assert LocalHours("America/New_York")(datetime(2027, 7, 1, 18, tzinfo=UTC).timestamp()) == 14  # EDT
    assert LocalHours("America/New_York")(datetime(2027, 1, 1, 18, tzinfo=UTC).timestamp()) == 13  # EST


def test_between_two_hours_middles_the_baseline_is_interpolated():
    base = baselines_from_days(history([60, 60, 60], shape={-1: -20, 1: 10}), "Asia/Shanghai", days=3)
    assert base.at("nanshan", T0 - 15 * 60) == (14, Baseline(55, 0, 3))  # 14:15: a quarter of the way to 13:30
    assert base.at("nanshan", T0 + 30 * 60 - 1)[1].usual == pytest.approx(65, abs=0.01)  # 14:59:59: half way to 15:30
    assert base.at("nanshan", T0 - 3 * HOUR + 60)[1] is None  # 11:31: no 11:00 at all
    assert base.at("nanshan", T0 - 2 * HOUR - 15 * 60) == (12, Baseline(60, 0, 3))  # 12:15, no 11:00: 12:00's own


# --- the judge --------------------------------------------------------------------------------------------------
def test_fires_beyond_k_spreads_and_resolves_when_back_to_usual():
    ev = evaluator('for = "2m"\nkeep_firing_for = "1m"\n')
    assert feed(ev, 0, 66) == []  # within 4 × 1.48 dB of 64: usual
    assert feed(ev, 10, 90) == []  # window mean (66+90)/2 = 78: beyond, pending its hold
    assert feed(ev, 60, 90) == []
    [c] = ev.tick(T0 + 130)
    assert (c.subject, c.firing) == ("nanshan", True) and c.value == pytest.approx(82)
    assert c.summary == "Noise in nanshan is 82 dB, usual for 14:00 is 64 dB (±1)"
    assert c.annotations["usual"] == 64 and c.annotations["hour"] == "14:00" and c.annotations["days"] == 10
    assert c.annotations["score"] == pytest.approx((82 - 64) / MAD_SCALE)
    assert c.threshold == 4
    assert feed(ev, 400, 64) == []  # the window (5 min) holds only 64 now: back to usual, recovering
    [resolved] = ev.tick(T0 + 470)
    assert (resolved.subject, resolved.firing, resolved.value) == ("nanshan", False, 64)


def test_not_before_the_minimum_history():
    six_days = [64, 65, 63, 64, 66, 62]
    ev = evaluator('min_history = 7\n', days=six_days)
    assert feed(ev, 0, 120) == []  # far out, but only 6 days know 14:00
    assert ev.tick(T0 + 600) == []
    ev = evaluator('min_history = 6\n', days=six_days)
    assert feed(ev, 0, 120) == [("nanshan", True, 120)]


def test_without_baselines_nothing_is_judged():
    ev = Evaluator(rules(), started=T0)
    assert feed(ev, 0, 500) == [] and ev.tick(T0 + 60) == []


def test_the_floor_applies_to_a_flat_history():
    flat = [64.0] * 10
    ev = evaluator('min_mad = 2\n', days=flat)  # spread at least 2 × 1.4826 ≈ 3 dB: the limit is 64 + 11.9
    assert feed(ev, 0, 70) == []  # 2 spreads
    assert feed(ev, 10, 90) == [("nanshan", True, 80)]  # window mean 80: 5.4 spreads
    ev = evaluator('min_mad = 0.1\n', days=flat)  # a floor too low: 70 dB is already 40 spreads out
    assert feed(ev, 0, 70) == [("nanshan", True, 70)]


def test_below_ignores_a_rise_and_hysteresis_holds_until_the_clear_threshold():
    ev = evaluator('direction = "below"\nclear_threshold = 2\n')
    assert feed(ev, 0, 90) == []  # far above, but only falls count
    assert feed(ev, 301, 50) == [("nanshan", True, 50)]  # alone in the window: 9.4 spreads below
    assert feed(ev, 302, 60) == []  # mean 55: still far below
    assert feed(ev, 900, 60) == []  # 60 alone: 2.7 spreads below, under 4 but not yet under the clear threshold
    assert feed(ev, 1300, 63) == [("nanshan", False, 63)]  # keep_firing_for is 0 here


def test_each_district_against_its_own_baseline_and_a_forgotten_one_leaves_no_detail():
    ev = evaluator()
    assert feed(ev, 0, 90, district="futian", device="ft-1") == []  # futian has no history
    assert feed(ev, 0, 90) == [("nanshan", True, 90)]
    judge = ev.judges["noise_unusual"]
    assert set(judge.details) == {"nanshan"}
    assert ev.forget(T0 + 1) == 2
    assert judge.details == {}


def test_the_cap_on_new_subjects_applies_and_judging_goes_on():
    ev = Evaluator(rules(), started=T0, limits=SubjectLimits({"iot": 1}, forget_after_s=DAY))
    ev.set_baselines("noise_unusual", baselines_from_days(history([64, 65, 63, 64, 66, 62, 64, 65]), "Asia/Shanghai",
                                                          14))  # fmt: skip
    assert feed(ev, 0, 64) == []
    assert feed(ev, 1, 99, district="futian", device="ft-1") == []  # a second new district this minute: refused
    assert ev.refused_new() == {"noise_unusual": 1}
    assert feed(ev, 2, 99) == [("nanshan", True, 81.5)]


# --- the rules file ---------------------------------------------------------------------------------------------
def test_an_anomaly_rule_reads_its_fields_with_defaults():
    [rule] = rules()
    assert (rule.type, rule.subject, rule.direction, rule.baseline_days, rule.min_history) == (
        "anomaly", "district", "both", 14, 7)
    assert (rule.window_s, rule.min_mad, rule.threshold) == (300.0, 0.5, 4.0)


def test_every_mistake_of_an_anomaly_rule_is_named():
    base = ('[[rule]]\nid = "a"\ntype = "anomaly"\nseverity = "warning"\nsummary = "{subject} {usual} {typo}"\n'
            'threshold = -1\nmin_mad = 0\nbaseline_days = 2.5\ndirection = "rising"\n'
            'silent_for = "5m"\n')  # fmt: skip
    with pytest.raises(RuleError) as bad:
        parse_rules(tomllib.loads(base))
    problems = "\n".join(bad.value.problems)
    for expected in ("field 'metric': missing", "field 'direction': 'rising' is not one of above, below, both",
                     "field 'baseline_days': a whole number of days", "field 'min_mad': must be above zero",
                     "field 'threshold': must be above zero", "unknown placeholder 'typo'",
                     "field 'silent_for': not used by a anomaly rule"):  # fmt: skip
        assert expected in problems, problems


def test_an_anomaly_rule_watches_a_district_or_a_device_and_nothing_else():
    assert rules('subject = "device"\n', base=RULE.replace('subject = "district"\n', ""))[0].subject == "device"
    with pytest.raises(RuleError, match="'subject': 'site' is not one of district, device"):
        rules('subject = "site"\nbaseline_days = 1\n', base=RULE.replace('subject = "district"\n', ""))
    with pytest.raises(RuleError, match="'baseline_days': 1 is not between"):  # the other problems are listed too
        rules('subject = "site"\nbaseline_days = 1\n', base=RULE.replace('subject = "district"\n', ""))


def test_history_and_baseline_days_must_make_sense_together():
    with pytest.raises(RuleError, match="'min_history': 10 is not between 3 and baseline_days"):
        rules("baseline_days = 7\nmin_history = 10\n")
    with pytest.raises(RuleError, match="'baseline_days': 120 is not between 3 and 90"):
        rules("baseline_days = 120\n")
    with pytest.raises(RuleError, match="'clear_threshold': must be above zero and at or below the threshold 4"):
        rules("clear_threshold = 5\n")
    with pytest.raises(RuleError, match="'min_mad': missing"):
        parse_rules(tomllib.loads(RULE))


# --- the summary in the reader's language -------------------------------------------------------------------------
def test_the_shipped_anomaly_summary_is_written_again_in_chinese_and_thai_from_the_annotations():
    rule = next(r for r in load_rules(Settings().alert_rules_file) if r.id == "traffic_district_slow")
    alert = {"rule_id": rule.id, "subject": "nanshan", "value": 21.4, "threshold": 4.0, "labels": {},
             "annotations": {"usual": 38.2, "spread": 2.97, "score": -5.7, "hour": "08:00", "days": 14},
             "summary": "as fired"}  # fmt: skip
    names = {"nanshan": {"en": "Nanshan", "zh-CN": "南山区", "th": "หนานซาน"}}
    assert summary_in(alert, {rule.id: rule}, "en", translations("en"), names) == (
        "Traffic in Nanshan averages 21 km/h, usual for 08:00 is 38 km/h (±3)")
    assert summary_in(alert, {rule.id: rule}, "zh-CN", translations("zh-CN"), names) == (
        "南山区 的平均车速为 21 km/h，08:00 时段通常为 38 km/h（±3）")
    assert summary_in(alert, {rule.id: rule}, "th", translations("th"), names).startswith("การจราจรในหนานซาน")
    # An alert without them (fired before migration 0015) keeps the words it fired with.
    assert summary_in({**alert, "annotations": {}}, {rule.id: rule}, "zh-CN", translations("zh-CN"), names) == (
        "as fired")
