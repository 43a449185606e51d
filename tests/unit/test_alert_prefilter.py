"""The evaluator's pre-parse filter skips only readings no rule could accept."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from alerts.evaluate import accepts
from alerts.prefilter import reading_filter
from alerts.rules import load_rules, parse_rules
from settings import Settings
from streams.batching import parse_entries
from streams.fields import InvalidEvent
from streams.iot import parse_reading

ENTRY = b"1764000000000-0"
FUTIAN = (b"22.5431", b"114.0596")
HEAD = '[[rule]]\nseverity = "warning"\nsummary = "s"\n'
RULE_SETS = {
    "metric": 'id = "a"\ntype = "threshold"\nmetric = "pm25"\nthreshold = 1',
    "kinds": 'id = "a"\ntype = "no_data"\nsubject = "device"\nmatch = { kind = ["water_level", "noise"] }\n'
    'silent_for = "5m"',
    "both": 'id = "a"\ntype = "rate"\nmetric = "level_m"\nsubject = "device"\nmatch = { kind = "water_level" }\n'
    'window = "5m"\nthreshold = 1',
    "two rules": 'id = "a"\ntype = "threshold"\nmetric = "pm25"\nthreshold = 1\n'
    + HEAD
    + 'id = "b"\ntype = "threshold"\nmetric = "speed_kmh"\nmatch = { kind = "traffic", district = "futian" }\n'
    "threshold = 1",
    "metric matcher": 'id = "a"\ntype = "no_data"\nsubject = "device"\nmatch = { metric = ["pm25", "pm10"] }\n'
    'silent_for = "5m"',
}
KINDS = [b"air_quality", b"water_level", b"traffic", b"noise", b" noise", b"Noise", b"noise\xe3\x80\x80", b"", b"\xff"]
METRICS = [b"pm25", b"pm10", b"level_m", b"speed_kmh", b"laeq_db", b"pm25 ", b"\xe3\x80\x80pm25", b"PM25"]


def rules(name: str):
    return parse_rules(tomllib.loads(HEAD + RULE_SETS[name]))


@st.composite
def entries(draw) -> list[bytes]:
    """A reading whose kind and metric vary (sometimes missing, repeated or oddly spaced), the rest valid."""
    fields = [b"device_id", b"dev-1", b"value", b"3", b"unit", b"u", b"lat", FUTIAN[0], b"lon", FUTIAN[1]]
    for name, options in ((b"kind", KINDS), (b"metric", METRICS)):
        for _ in range(draw(st.sampled_from([1, 1, 1, 0, 2]))):
            fields += [name, draw(st.sampled_from(options))]
    return fields


@pytest.mark.parametrize("rule_set", list(RULE_SETS))
@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=entries())
def test_a_skipped_reading_is_one_no_rule_accepts(ctx, rule_set, fields):
    rule_list = rules(rule_set)
    readings = reading_filter(rule_list)
    pairs = iter(fields)
    mapping = dict(zip(pairs, pairs, strict=False))
    assert readings.unwanted(list(fields)) == readings.unwanted(mapping)
    if not readings.unwanted(fields):
        return
    try:
        reading = parse_reading(fields, ENTRY, ctx)
    except InvalidEvent:
        return  # ingest dead-letters it; no rule could see it anyway
    assert not any(accepts(rule, reading) for rule in rule_list)


def test_some_readings_are_skipped_and_unusual_ones_never():
    readings = reading_filter(rules("two rules"))
    assert readings.unwanted([b"kind", b"noise", b"metric", b"laeq_db"])
    assert not readings.unwanted([b"kind", b"air_quality", b"metric", b"pm25"])
    assert not readings.unwanted([b"kind", b"traffic", b"metric", b"speed_kmh"])  # district is left to the rule
    assert not readings.unwanted([b"kind", b"noise", b"metric", b"laeq_db "])  # the parser decides
    assert not readings.unwanted([b"kind", b"noise"])  # no metric: the parser refuses it, not the filter


def test_no_filter_when_a_rule_may_want_every_reading():
    silent_stream = 'id = "a"\ntype = "no_data"\nsubject = "stream"\nsilent_for = "5m"'
    assert reading_filter(parse_rules(tomllib.loads(HEAD + silent_stream))) is None
    datacenter_only = 'id = "a"\ntype = "threshold"\nsource = "datacenter"\nmetric = "it_kw"\nthreshold = 1'
    assert reading_filter(parse_rules(tomllib.loads(HEAD + datacenter_only))).unwanted([b"kind", b"x", b"metric", b"y"])


def test_the_shipped_rules_watch_every_banded_kind_and_skip_power():
    readings = reading_filter(load_rules(Settings().alert_rules_file))
    watched = {kind: not readings.unwanted([b"kind", kind, b"metric", metric])
               for kind, metric in [(b"air_quality", b"pm25"), (b"water_level", b"level_m"), (b"traffic", b"speed_kmh"),
                                    (b"noise", b"laeq_db"), (b"power", b"load_mw")]}  # fmt: skip
    # traffic and noise have status bands (whose device alerts need their readings); power has none
    assert watched == {b"air_quality": True, b"water_level": True, b"traffic": True, b"noise": True, b"power": False}


def test_unwanted_entries_are_acknowledged_but_not_parsed(ctx):
    good = [b"device_id", b"n-1", b"kind", b"noise", b"metric", b"laeq_db", b"value", b"50", b"unit", b"dB",
            b"lat", FUTIAN[0], b"lon", FUTIAN[1]]  # fmt: skip
    read = parse_entries({"iot": [(b"1-0", good), (b"2-0", good)]}, ctx, redelivered=False,
                         unwanted={"iot": lambda fields: True})  # fmt: skip
    assert read.ids == {"iot": [b"1-0", b"2-0"]} and read.batch.readings == [] and read.rejected == []
