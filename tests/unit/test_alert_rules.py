"""The rules file: the shipped one is valid, and every mistake is named by rule and field."""

from __future__ import annotations

import tomllib

import pytest

from alerts.rules import RuleError, duration_s, load_rules, parse_rules
from settings import Settings


def _rules(text: str):
    return parse_rules(tomllib.loads(text), source="test.toml")


def _problems(text: str) -> list[str]:
    with pytest.raises(RuleError) as caught:
        _rules(text)
    return caught.value.problems


def test_the_shipped_rules_file_is_valid_and_has_every_rule_type():
    rules = load_rules(Settings().alert_rules_file)
    assert {r.type for r in rules} == {"threshold", "rate", "no_data", "aggregate", "forecast", "anomaly"}
    assert {r.function for r in rules if r.type == "aggregate"} == {"pue", "open_past_sla"}
    pm25 = next(r for r in rules if r.id == "pm25_district_high")
    assert (pm25.subject, pm25.threshold, pm25.for_s, pm25.keep_firing_for_s) == ("district", 150.0, 300.0, 120.0)


def test_durations():
    assert duration_s("5m") == 300 and duration_s("250ms") == 0.25 and duration_s(90) == 90.0
    assert duration_s("2h") == 7200 and duration_s("1d") == 86400
    for bad in ("5 minutes", "-1s", True, None):
        with pytest.raises(ValueError):
            duration_s(bad)


def test_defaults_apply_and_a_rule_overrides_them():
    rules = _rules("""
        [defaults]
        keep_firing_for = "2m"
        [[rule]]
        id = "a"
        type = "threshold"
        severity = "info"
        summary = "{subject} {value}"
        metric = "pm25"
        threshold = 1
        [[rule]]
        id = "b"
        type = "no_data"
        severity = "info"
        summary = "silent"
        subject = "stream"
        silent_for = "1m"
    """)
    assert rules[0].keep_firing_for_s == 120 and rules[0].subject == "device" and rules[0].window_s == 60


@pytest.mark.parametrize(("body", "expected"), [
    ('type = "treshold"', "rule 'x': field 'type': 'treshold' is not one of threshold"),
    ('type = "threshold"\nmetric = "pm25"\nthreshold = "high"', "rule 'x': field 'threshold': must be a finite number"),
    ('type = "threshold"\nmetric = "pm25"', "rule 'x': field 'threshold': missing"),
    ('type = "threshold"\nmetric = "pm25"\nthreshold = 1\nfor = "soon"', "rule 'x': field 'for': a duration is"),
    ('type = "threshold"\nmetric = "pm25"\nthreshold = 1\ntreshold = 2', "rule 'x': field 'treshold': unknown field"),
    ('type = "threshold"\nmetric = "pm25"\nthreshold = 1\nsilent_for = "1m"',
     "rule 'x': field 'silent_for': not used by a threshold rule"),
    ('type = "threshold"\nmetric = "pm25"\nthreshold = 1\nmatch = { site = "dc1" }',
     "rule 'x': field 'match.site': the 'iot' stream can be matched on kind, metric, district"),
    ('type = "rate"\nmetric = "level_m"\nthreshold = 1\nsubject = "district"',
     "rule 'x': field 'subject': 'district' is not one of device"),
    ('type = "threshold"\nsource = "complaints"\nmetric = "x"\nthreshold = 1',
     "rule 'x': field 'source': a threshold rule cannot watch the 'complaints' stream"),
    ('type = "threshold"\nmetric = "pm25"\nthreshold = 150\nclear_threshold = 160',
     "rule 'x': field 'clear_threshold': must be at or below the threshold 150.0"),
    ('type = "aggregate"\nfunction = "pue"\nthreshold = 1.3\nsummary = "{subjct}"',
     "rule 'x': field 'summary': unknown placeholder 'subjct'"),
    ('type = "aggregate"\nfunction = "open_past_sla"\nthreshold = 50', "rule 'x': field 'sla': missing"),
    ('type = "threshold"\nsource = "datacenter"\nmetric = "pue"\nthreshold = 1',
     "rule 'x': field 'metric': a data-centre sample has facility_kw"),
])  # fmt: skip
def test_mistakes_name_the_rule_and_the_field(body: str, expected: str):
    base = 'id = "x"\nseverity = "warning"\n'
    if "summary" not in body:
        base += 'summary = "s"\n'
    problems = _problems(f"[[rule]]\n{base}{body}\n")
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once_and_ids_are_unique():
    problems = _problems("""
        [[rule]]
        id = "x"
        type = "no_data"
        severity = "loud"
        summary = "s"
        silent_for = "1m"
        [[rule]]
        id = "x"
        type = "no_data"
        severity = "info"
        summary = "s"
        silent_for = "1m"
        [rules]
    """)
    assert any("field 'severity': 'loud'" in p for p in problems)
    assert any("rule 'x': field 'id': used by an earlier rule" in p for p in problems)
    assert any("unknown top-level table 'rules'" in p for p in problems)


def test_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(RuleError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[[rule]\n")
    with pytest.raises(RuleError, match="not valid TOML"):
        load_rules(broken)


def test_summary_fills_subject_value_threshold_and_labels():
    (rule,) = _rules("""
        [[rule]]
        id = "x"
        type = "threshold"
        severity = "info"
        summary = "{team}: {subject} at {value:.1f} over {threshold:.0f}"
        labels = { team = "env" }
        metric = "pm25"
        threshold = 150
    """)
    assert rule.summarize("futian", 161.26) == "env: futian at 161.3 over 150"
