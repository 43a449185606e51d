"""The evaluator's bounds on subjects: new ones per minute, and forgetting the silent (injected clock only)."""

from __future__ import annotations

import tomllib

import pytest

from alerts.evaluate import Evaluator, SubjectLimits, forget_horizon_problems
from alerts.rules import parse_rules
from tests.unit.test_alert_evaluate import T0, complaint, reading, sample

DAY = 86_400.0
LIMITS = SubjectLimits({"iot": 3, "datacenter": 2, "complaints": 2}, forget_after_s=DAY)
RULES = """
[[rule]]
id = "pm25_high"
type = "threshold"
severity = "warning"
summary = "{subject}"
source = "iot"
subject = "device"
metric = "pm25"
op = ">"
threshold = 100
window = "5m"

[[rule]]
id = "silent"
type = "no_data"
severity = "warning"
summary = "{subject} silent"
source = "iot"
subject = "device"
silent_for = "10m"

[[rule]]
id = "pue"
type = "aggregate"
function = "pue"
severity = "warning"
summary = "{subject}"
subject = "site"
op = ">"
threshold = 2.0
window = "15m"

[[rule]]
id = "sla"
type = "aggregate"
function = "open_past_sla"
severity = "warning"
summary = "{subject}"
subject = "city"
op = ">"
threshold = 100
sla = "1h"
"""


def evaluator(limits: SubjectLimits | None = LIMITS) -> Evaluator:
    return Evaluator(parse_rules(tomllib.loads(RULES)), started=T0, limits=limits)


def test_each_rule_tracks_at_most_the_cap_of_new_subjects_per_minute_and_known_ones_always():
    ev = evaluator()
    ev.observe("iot", [reading(1, 10, device=f"d-{i}") for i in range(10)], T0 + 1)
    assert sorted(ev.judges["pm25_high"].windows) == ["d-0", "d-1", "d-2"]
    assert sorted(ev.judges["silent"].last_seen) == ["d-0", "d-1", "d-2"]
    assert ev.refused_new() == {"pm25_high": 7, "silent": 7}
    # Known subjects are always judged, in the same minute too: d-1 breaches and fires.
    ev.observe("iot", [reading(2, 500, device="d-1")], T0 + 2)
    assert "d-1" in ev.judges["pm25_high"].holds
    # The next minute of the evaluator's clock admits three more.
    ev.observe("iot", [reading(61, 10, device=f"d-{i}") for i in range(10)], T0 + 61)
    assert len(ev.judges["pm25_high"].windows) == 6


def test_sites_and_requests_have_their_own_caps():
    ev = evaluator()
    ev.observe("datacenter", [sample(1, 1200, 1000, site=f"dc-{i}") for i in range(5)], T0 + 1)
    ev.observe("complaints", [complaint(1, f"SZ-{i}") for i in range(5)], T0 + 1)
    assert sorted(ev.judges["pue"].windows) == ["dc-0", "dc-1"]
    assert sorted(ev.judges["sla"].open) == ["SZ-0", "SZ-1"]
    ev.observe("complaints", [complaint(2, "SZ-0", status="closed")], T0 + 2)  # a known one closes
    assert sorted(ev.judges["sla"].open) == ["SZ-1"]


def test_without_limits_nothing_is_capped():
    ev = evaluator(limits=None)
    ev.observe("iot", [reading(1, 10, device=f"d-{i}") for i in range(50)], T0 + 1)
    assert len(ev.judges["pm25_high"].windows) == 50 and ev.refused_new() == {}


def test_subjects_silent_past_the_horizon_are_forgotten_by_every_rule_and_the_others_stay():
    ev = evaluator(SubjectLimits({"iot": 100, "datacenter": 100, "complaints": 100}, forget_after_s=DAY))
    ev.observe("iot", [reading(0, 10, device="gone"), reading(0, 10, device="alive")], T0)
    ev.observe("datacenter", [sample(0, 1200, 1000, site="dc-gone")], T0)
    ev.tick(T0 + 700)  # both silent past 10 min: the no-data rule fires for each
    assert set(ev.judges["silent"].holds) == {"gone", "alive"}
    ev.observe("iot", [reading(DAY / 2, 10, device="alive")], T0 + DAY / 2)

    ev.tick(T0 + DAY + 30)  # the horizon is reached, the minute's forgetting pass has run meanwhile
    ev.tick(T0 + DAY + 120)
    assert set(ev.judges["silent"].last_seen) == {"alive"}
    assert set(ev.judges["silent"].holds) == {"alive"}  # silent again for half a day: still missed; "gone" is not
    assert set(ev.judges["pm25_high"].windows) == {"alive"}
    assert ev.judges["pue"].windows == {}
    # A forgotten device that speaks again is a new subject, tracked from then on.
    ev.observe("iot", [reading(DAY + 200, 10, device="gone")], T0 + DAY + 200)
    assert "gone" in ev.judges["silent"].last_seen


def test_forget_drops_only_what_is_older_than_the_horizon():
    ev = evaluator(SubjectLimits({"iot": 100}, forget_after_s=DAY))
    ev.observe("iot", [reading(0, 10, device="a")], T0)
    ev.observe("iot", [reading(100, 10, device="b")], T0 + 100)
    assert ev.forget(T0 + 50) == 2  # "a" from both rules
    assert set(ev.judges["pm25_high"].windows) == {"b"}
    assert set(ev.judges["silent"].last_seen) == {"b"}


def test_a_stream_silence_rule_never_forgets_its_stream():
    rules = parse_rules(
        tomllib.loads(
            '[[rule]]\nid = "feed"\ntype = "no_data"\nseverity = "warning"\n'
            'summary = "s"\nsource = "complaints"\nsubject = "stream"\nsilent_for = "5m"\n'
        )
    )
    ev = Evaluator(rules, started=T0, limits=SubjectLimits({}, forget_after_s=3600))
    assert ev.forget(T0 + 10 * DAY) == 0
    assert [c.firing for c in ev.tick(T0 + 10 * DAY)] == [True]


def test_a_no_data_horizon_at_or_past_forgetting_is_refused():
    rules = parse_rules(tomllib.loads(RULES))
    assert forget_horizon_problems(rules, DAY) == []
    problems = forget_horizon_problems(rules, 600)
    assert len(problems) == 1 and "'silent'" in problems[0] and "IOC_DEVICE_FORGET_AFTER_HOURS" in problems[0]
    with pytest.raises(ValueError, match="forgotten before it is missed"):
        Evaluator(rules, started=T0, limits=SubjectLimits({}, forget_after_s=600))
