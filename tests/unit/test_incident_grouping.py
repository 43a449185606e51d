"""Grouping alerts and complaints into incidents, and an incident's states (pure)."""

from __future__ import annotations

import pytest

from alerts.rules import RuleError, parse_config
from incidents.config import parse_grouping
from incidents.grouping import Candidate, GroupingRules, OpenIncident, Place, Verdict, decide, distance_m
from incidents.lifecycle import (
    IncidentRefused,
    OfficerAction,
    State,
    after_alert_resolved,
    after_member,
    after_quiet,
    next_state,
)

FUTIAN = Place("futian", 22.541, 114.055)
NEAR_FUTIAN_IN_LUOHU = Place("luohu", 22.541, 114.070)  # about 1.5 km east, over the district line
NANSHAN = Place("nanshan", 22.533, 113.930)  # about 13 km west
RULES = GroupingRules(window_s=1800, distance_m=2000, open_severities=frozenset({"critical"}),
                      complaint_categories=frozenset({"waterlogging"}))  # fmt: skip


def gauge_alert(place: Place, at: float, severity: str = "critical", rule: str = "band_water_level_level_m"):
    return Candidate("alert", rule, severity, place, at)


def complaint(place: Place, at: float, category: str = "waterlogging"):
    return Candidate("complaint", category, None, place, at)


def incident(id_: int, place: Place, last: float, members: int = 1) -> OpenIncident:
    return OpenIncident(id_, place, last, members)


def test_distance_is_great_circle_metres():
    assert distance_m(FUTIAN, FUTIAN) == pytest.approx(0.0)
    assert distance_m(FUTIAN, NEAR_FUTIAN_IN_LUOHU) == pytest.approx(1543, rel=0.01)
    assert distance_m(FUTIAN, Place("futian")) is None  # a district-wide alert has no point


def test_a_critical_gauge_alert_opens_an_incident_when_none_is_near():
    assert decide(gauge_alert(FUTIAN, 0), [], RULES).verdict is Verdict.OPEN
    assert decide(gauge_alert(FUTIAN, 0), [incident(1, NANSHAN, 0)], RULES).verdict is Verdict.OPEN


def test_a_complaint_joins_an_incident_in_its_district_within_the_window_but_never_opens_one():
    open_one = [incident(7, FUTIAN, 1000)]
    assert decide(complaint(Place("futian", 22.60, 114.10), 2000), open_one, RULES) == (Verdict.JOIN, 7, "")
    assert decide(complaint(FUTIAN, 0), [], RULES) == (Verdict.IGNORE, None, "no_incident_near")


def test_close_in_place_means_same_district_or_within_the_distance():
    open_one = [incident(7, FUTIAN, 0)]
    assert decide(complaint(NEAR_FUTIAN_IN_LUOHU, 60), open_one, RULES).verdict is Verdict.JOIN
    assert decide(complaint(NANSHAN, 60), open_one, RULES).verdict is Verdict.IGNORE
    tight = GroupingRules(distance_m=1000, complaint_categories=frozenset({"waterlogging"}))
    assert decide(complaint(NEAR_FUTIAN_IN_LUOHU, 60), open_one, tight).verdict is Verdict.IGNORE


def test_close_in_time_counts_from_the_latest_member():
    open_one = [incident(7, FUTIAN, 1000)]
    assert decide(complaint(FUTIAN, 1000 + 1800), open_one, RULES).verdict is Verdict.JOIN
    assert decide(complaint(FUTIAN, 1000 + 1801), open_one, RULES).verdict is Verdict.IGNORE
    # a gauge alert out of the window opens a new incident instead
    assert decide(gauge_alert(FUTIAN, 1000 + 1801), open_one, RULES).verdict is Verdict.OPEN


def test_the_latest_of_several_close_incidents_is_joined():
    both = [incident(3, FUTIAN, 100), incident(4, NEAR_FUTIAN_IN_LUOHU, 500)]
    assert decide(complaint(FUTIAN, 600), both, RULES).incident_id == 4


def test_which_rules_and_categories_may_open_and_join():
    assert decide(complaint(FUTIAN, 10, "noise"), [incident(1, FUTIAN, 0)], RULES).reason == "not_grouped"
    # a warning alert may join (join_rules empty: any rule) but not open
    assert decide(gauge_alert(FUTIAN, 10, "warning"), [], RULES).reason == "no_incident_near"
    assert decide(gauge_alert(FUTIAN, 10, "warning"), [incident(1, FUTIAN, 0)], RULES).verdict is Verdict.JOIN
    only = GroupingRules(open_rules=frozenset({"water_level_rising"}), join_rules=frozenset({"pm25_high"}))
    assert decide(gauge_alert(FUTIAN, 0), [], only).reason == "not_grouped"
    assert decide(gauge_alert(FUTIAN, 0, rule="water_level_rising"), [], only).verdict is Verdict.OPEN
    assert decide(gauge_alert(FUTIAN, 0, rule="pm25_high"), [incident(1, FUTIAN, 0)], only).verdict is Verdict.JOIN
    off = GroupingRules(enabled=False)
    assert decide(gauge_alert(FUTIAN, 0), [], off).verdict is Verdict.IGNORE


def test_members_and_open_incidents_are_capped():
    capped = GroupingRules(max_members=3, max_open=2)
    full = [incident(1, FUTIAN, 0, members=3)]
    assert decide(complaint(FUTIAN, 10), full, capped) == (Verdict.IGNORE, 1, "incident_full")
    two = [incident(1, NANSHAN, 0), incident(2, NANSHAN, 0)]
    assert decide(gauge_alert(FUTIAN, 0), two, capped).reason == "too_many_open"


def test_officers_move_an_incident_and_closed_is_final():
    assert next_state("open", OfficerAction.SET_STATE, "monitoring") is State.MONITORING
    assert next_state("monitoring", OfficerAction.SET_STATE, "open") is State.OPEN
    assert next_state("monitoring", OfficerAction.SET_STATE, "closed") is State.CLOSED
    assert next_state("open", OfficerAction.TAKE_OWNERSHIP) is State.OPEN
    assert next_state("closed", OfficerAction.NOTE) is State.CLOSED
    for action, target in ((OfficerAction.SET_STATE, "open"), (OfficerAction.TAKE_OWNERSHIP, None)):
        with pytest.raises(IncidentRefused):
            next_state("closed", action, target)
    with pytest.raises(IncidentRefused):
        next_state("open", OfficerAction.SET_STATE, "open")
    with pytest.raises(ValueError):
        next_state("open", OfficerAction.SET_STATE, "gone")


def test_the_rules_move_an_incident():
    assert after_alert_resolved("open", 1) is State.OPEN
    assert after_alert_resolved("open", 0) is State.MONITORING
    assert after_member("monitoring") is State.OPEN
    assert after_member("closed") is State.CLOSED
    assert after_quiet("monitoring", 0, quiet_since=0, now=3599, quiet_s=3600) is State.MONITORING
    assert after_quiet("monitoring", 0, quiet_since=0, now=3600, quiet_s=3600) is State.CLOSED
    assert after_quiet("open", 0, quiet_since=0, now=3600, quiet_s=3600) is State.MONITORING
    assert after_quiet("open", 2, quiet_since=0, now=9999, quiet_s=3600) is State.OPEN


def test_the_incidents_table_of_the_rules_file():
    problems: list[str] = []
    table = {"window": "20m", "distance_m": 1500, "quiet": "2h", "open_rules": ["pm25_high"],
             "complaint_categories": ["waterlogging"], "max_members": 50}  # fmt: skip
    rules = parse_grouping(table, {"pm25_high"}, problems)
    assert problems == []
    assert (rules.window_s, rules.distance_m, rules.quiet_s, rules.max_members) == (1200, 1500, 7200, 50)
    assert rules.open_rules == {"pm25_high"} and rules.complaint_categories == {"waterlogging"}
    bad = {"windw": 1, "window": "-1m", "distance_m": 1e9, "open_rules": ["nope"], "open_severities": ["loud"],
           "max_open": 1.5, "join_rules": "all"}  # fmt: skip
    parse_grouping(bad, {"pm25_high"}, problems)
    assert problems == [
        "[incidents] field 'windw': unknown field",
        "[incidents] field 'window': a duration is a number of seconds or a string such as '5m', not '-1m'",
        "[incidents] field 'distance_m': from 0 to 50000",
        "[incidents] field 'max_open': a whole number",
        "[incidents] field 'join_rules': a list of strings",
        "[incidents] field 'open_severities': 'loud' is not one of critical, warning, info",
        "[incidents] field 'open_rules': no rule 'nope' in this file",
    ]


def test_the_rules_file_lists_incident_mistakes_with_the_others():
    with pytest.raises(RuleError) as refused:
        parse_config({"incidents": {"window": "soon"}})
    assert "[incidents] field 'window'" in str(refused.value)
    assert parse_config({}).incidents == GroupingRules(enabled=False)  # no table: nothing grouped
    assert parse_config({"incidents": {}}).incidents == GroupingRules()
