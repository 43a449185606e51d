"""Status bands: the `[[band]]`/`[stale_after]` tables of the rules file, the judge, and each band's device alert."""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime

import pytest

from alerts.bands import StatusFile
from alerts.evaluate import Evaluator
from alerts.rules import RuleError, load_config, parse_config
from live.snapshot import judge_devices
from live.thresholds import CRITICAL, NORMAL, STALE, WARNING
from settings import Settings
from streams.iot import SensorReading

T0 = 1_790_000_000.0
BANDS = """
[defaults]
keep_firing_for = "1m"

[[band]]
kind = "air_quality"
metric = "pm25"
warning = 75
critical = 115
for = "5m"
labels = { team = "environment" }

[[band]]
kind = "traffic"
metric = "speed_kmh"
direction = "below"
warning = 20
critical = 10
alert = "warning"
for = "2m"

[stale_after]
default = "10m"
traffic = "5m"
"""


def config(text: str = BANDS):
    return parse_config(tomllib.loads(text), source="test.toml")


def problems(text: str) -> list[str]:
    with pytest.raises(RuleError) as raised:
        config(text)
    return raised.value.problems


@pytest.mark.parametrize(("kind", "metric", "value", "age_s", "status"), [
    ("air_quality", "pm25", 74.9, 10, NORMAL), ("air_quality", "pm25", 75, 10, WARNING),
    ("air_quality", "pm25", 115, 10, CRITICAL), ("traffic", "speed_kmh", 20, 10, WARNING),
    ("traffic", "speed_kmh", 10, 10, CRITICAL), ("traffic", "speed_kmh", 21, 10, NORMAL),
    ("traffic", "speed_kmh", 50, 301, STALE), ("air_quality", "pm25", 500, 601, STALE),
    ("power", "load_mw", 9e9, 10, NORMAL),  # no band: never out of band, only stale
])  # fmt: skip
def test_the_judge_applies_the_bands_of_the_file(kind, metric, value, age_s, status):
    assert config().bands.status(kind, metric, value, age_s) == status


def test_a_verdict_names_the_band_the_level_crossed_and_the_alert_rule():
    bands = config().bands
    verdict = bands.judge("air_quality", "pm25", 128.0, 10)
    assert (verdict.band, verdict.op, verdict.limit) == ("air_quality/pm25", ">=", 115)
    assert verdict.rule_id == "band_air_quality_pm25"
    assert verdict.alert_after_s == 300  # critical is the level this band alerts at
    assert bands.judge("air_quality", "pm25", 80.0, 10).alert_after_s is None  # warning opens nothing here
    slow = bands.judge("traffic", "speed_kmh", 15.0, 10)
    assert (slow.status, slow.op, slow.limit, slow.alert_after_s) == (WARNING, "<=", 20, 120)
    silent = bands.judge("traffic", "speed_kmh", 50.0, 14 * 60)
    assert (silent.status, silent.age_s, silent.stale_after_s) == (STALE, 14 * 60, 300)


def test_a_device_takes_its_worst_metric_and_says_why():
    now_ms = int(T0 * 1000)
    rows = [("aq-1", "pm10", "air_quality", "futian", 22.5, 114.0, 300.0, "ug/m3", now_ms - 5000),
            ("aq-1", "pm25", "air_quality", "futian", 22.5, 114.0, 128.0, "ug/m3", now_ms - 5000),
            ("tr-1", "speed_kmh", "traffic", "futian", 22.5, 114.0, 50.0, "km/h", now_ms - 840_000)]  # fmt: skip
    by_id = {s["id"]: s for s in judge_devices(rows, now_ms, config().bands)}
    assert by_id["aq-1"]["status"] == CRITICAL  # pm10 has no band in this file; pm25 is critical
    assert by_id["aq-1"]["why"] == {"metric": "pm25", "value": 128.0, "unit": "ug/m3", "band": "air_quality/pm25",
                                    "op": ">=", "limit": 115.0, "rule": "band_air_quality_pm25",
                                    "alert_after_s": 300.0}  # fmt: skip
    assert by_id["tr-1"]["why"] == {"silent_s": 840, "stale_after_s": 300.0}
    assert by_id["tr-1"]["status"] == STALE


def test_each_band_is_a_device_rule_at_its_alert_level():
    rules = {r.id: r for r in config().rules}
    pm25, traffic = rules["band_air_quality_pm25"], rules["band_traffic_speed_kmh"]
    assert (pm25.band, pm25.type, pm25.subject, pm25.reduce, pm25.op, pm25.threshold, pm25.severity, pm25.for_s,
            pm25.keep_firing_for_s, dict(pm25.labels)) == ("air_quality/pm25", "threshold", "device", "last", ">=",
                                                          115, CRITICAL, 300, 60, {"team": "environment"})  # fmt: skip
    assert pm25.match == {"kind": frozenset({"air_quality"})} and pm25.metric == "pm25"
    assert (traffic.op, traffic.threshold, traffic.severity) == ("<=", 20, WARNING)
    assert pm25.summarize("aq-1", 128.0) == "pm25 at aq-1 reads 128: critical (≥ 115, band air_quality/pm25) for 5 min"


def test_the_shipped_file_has_the_bands_the_simulator_was_tuned_against():
    shipped = load_config(Settings().alert_rules_file)
    levels = {b.name: (b.warning, b.critical, b.above) for b in shipped.bands.bands.values()}
    assert levels == {"air_quality/pm25": (75, 115, True), "air_quality/pm10": (150, 250, True),
                      "noise/laeq_db": (70, 85, True), "traffic/speed_kmh": (20, 10, False),
                      "water_level/level_m": (2.0, 2.8, True)}  # fmt: skip
    assert {r.id for r in shipped.rules if r.band} == {b.rule_id for b in shipped.bands.bands.values()}
    assert shipped.bands.stale_after("air_quality") == 900 and shipped.bands.stale_after("bus") == 600


def test_every_mistake_in_the_bands_is_listed_at_once():
    found = problems("""
[[band]]
kind = "Air Quality"
metric = "pm25"
warning = 115
critical = 75
direction = "sideways"
alert = "info"
for = "soon"
treshold = 3

[[band]]
kind = "noise"
metric = "laeq_db"
warning = 85
critical = 70

[[band]]
kind = "noise"
metric = "laeq_db"
warning = 70
critical = 85

[stale_after]
traffic = "-5m"
"Bus Lane" = "5m"
water_level = "0s"
""")
    text = "\n".join(found)
    for expected in ("'kind': 'Air Quality' is not lower_snake_case",
                     "'direction': 'sideways' is not one of above, below",
                     "'alert': 'info' is not one of critical, warning", "field 'for': a duration",
                     "field 'treshold': unknown field",
                     "band 'noise/laeq_db': field 'critical': 70 is below warning 85",
                     "band 'noise/laeq_db': an earlier band has the same kind and metric",
                     "[stale_after] 'traffic'", "[stale_after] 'Bus Lane': not a device kind",
                     "[stale_after] 'water_level': must be longer than zero"):  # fmt: skip
        assert expected in text, f"{expected!r} not in:\n{text}"


def test_a_low_is_bad_band_must_have_critical_at_or_below_warning_and_a_rule_may_not_take_a_bands_id():
    found = problems("""
[[band]]
kind = "traffic"
metric = "speed_kmh"
direction = "below"
warning = 10
critical = 20

[[band]]
kind = "noise"
metric = "laeq_db"
warning = 70
critical = 85

[[rule]]
id = "band_noise_laeq_db"
type = "no_data"
severity = "warning"
summary = "x"
silent_for = "5m"
""")
    assert any("critical': 20 is above warning 10" in p for p in found)
    assert any("rule 'band_noise_laeq_db': field 'id': used by an earlier rule" in p for p in found)


def test_a_device_held_in_a_critical_band_fires_its_alert_after_the_hold_and_not_before():
    evaluator = Evaluator(config().rules, started=T0)

    def reading(value: float, at: float) -> SensorReading:
        return SensorReading(datetime.fromtimestamp(at, UTC), "aq-1", "air_quality", "pm25", value, "ug/m3",
                             22.54, 114.06, "futian", None, "1-0")  # fmt: skip

    assert evaluator.observe("iot", [reading(80.0, T0)], T0) == []  # warning: this band alerts at critical
    assert evaluator.observe("iot", [reading(130.0, T0 + 10)], T0 + 10) == []  # critical: the hold starts
    assert evaluator.tick(T0 + 10 + 299) == []
    fired = evaluator.tick(T0 + 10 + 300)
    assert [(c.rule_id, c.subject, c.firing, c.severity, c.threshold) for c in fired] == [
        ("band_air_quality_pm25", "aq-1", True, CRITICAL, 115)]
    assert evaluator.observe("iot", [reading(60.0, T0 + 400)], T0 + 400) == []  # back to normal: keep_firing_for
    resolved = evaluator.tick(T0 + 400 + 60)
    assert [(c.rule_id, c.firing) for c in resolved] == [("band_air_quality_pm25", False)]


def test_the_maps_keep_the_last_good_bands_when_the_file_breaks(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(BANDS)
    status = StatusFile(path)
    assert status.current().status("air_quality", "pm25", 120, 1) == CRITICAL
    path.write_text(BANDS.replace("critical = 115", "critical = 'high'"))
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the file system's resolution
    assert status.current().status("air_quality", "pm25", 120, 1) == CRITICAL
    path.write_text(BANDS.replace("critical = 115", "critical = 125"))
    os.utime(path, ns=(2, 2))
    assert status.current().status("air_quality", "pm25", 120, 1) == WARNING
    assert StatusFile(tmp_path / "missing.toml").current().bands == {}  # nothing to colour by, and it says so
