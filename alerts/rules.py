"""Alert rules: read `config/alert_rules.toml`, validate every field, return typed ``Rule`` values (pure).

A mistake in the file is reported as ``RuleError`` listing every problem, each naming the rule and the field,
so an operator can fix the file in one go. The format is described in docs/ALERTS.md and in the shipped file.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from alerts.bands import band_rule_tables, parse_bands
from alerts.forecast_rule import FIELDS as FORECAST_FIELDS
from alerts.forecast_rule import forecast_fields
from alerts.rule_fields import RuleFields as _Fields
from alerts.rule_fields import duration_s
from incidents.config import parse_grouping
from incidents.grouping import GroupingRules
from live.thresholds import StatusBands

__all__ = ["AlertConfig", "Rule", "RuleError", "duration_s", "load_config", "load_rules", "parse_config",
           "parse_rules"]

SEVERITIES = ("critical", "warning", "info")
OPS = (">", ">=", "<", "<=")
TYPES = ("threshold", "rate", "no_data", "aggregate", "forecast", "anomaly")
# Which matchers mean something for each stream, and which subjects a rule on it can watch.
MATCHABLE = {"iot": ("kind", "metric", "district"), "datacenter": ("site",), "complaints": ("district", "category")}
SUBJECTS = {
    "threshold": {"iot": ("device", "district"), "datacenter": ("site",)},
    "rate": {"iot": ("device",), "datacenter": ("site",)},
    "no_data": {"iot": ("device", "stream"), "datacenter": ("site", "stream"), "complaints": ("stream",)},
    "aggregate": {"datacenter": ("site",), "complaints": ("city", "district")},
    "forecast": {"iot": ("device", "district")},
    # a district's baseline comes from sensor_rollup_1h (alerts/baselines.py), a device's from device_rollup_1h,
    # which the evaluator writes for the devices such rules watch (alerts/device_hours.py)
    "anomaly": {"iot": ("district", "device")},
}
SAMPLE_METRICS = ("facility_kw", "it_kw", "inlet_temp_c", "humidity_pct")
FUNCTIONS = {"pue": "datacenter", "open_past_sla": "complaints"}
REDUCERS = ("mean", "max", "min", "last")
KNOWN_FIELDS = frozenset({
    "id", "type", "severity", "summary", "labels", "match", "source", "subject", "metric", "op", "threshold",
    "clear_threshold", "window", "reduce", "for", "keep_firing_for", "direction", "silent_for", "function", "sla",
    *FORECAST_FIELDS,
    "baseline_days", "min_history", "min_mad",
})  # fmt: skip
WINDOW_DEFAULT_S = {"threshold": 60.0, "rate": 600.0, "forecast": 900.0}
# A forecast summary's own placeholders, as evaluate fills them (words, already formatted in the language)
FORECAST_WORDS = {"expected_in": "25 minutes", "interval": "18–34 minutes", "confidence": "80%"}
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class RuleError(ValueError):
    """The rules file is wrong; ``problems`` says where, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: {len(problems)} problem(s) in the alert rules:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Rule:
    """One validated rule. Durations are seconds; fields a type does not use keep their defaults."""

    id: str
    type: str
    severity: str
    summary: str
    source: str
    subject: str
    labels: Mapping[str, str] = field(default_factory=dict)
    match: Mapping[str, frozenset[str]] = field(default_factory=dict)
    metric: str | None = None
    op: str = ">"
    threshold: float = 0.0
    clear_threshold: float | None = None  # hysteresis: once firing, it stays so until the value crosses this
    window_s: float = 60.0
    reduce: str = "mean"
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0  # flapping: a firing alert resolves only after this long without a breach
    direction: str = "rising"
    silent_for_s: float = 600.0
    function: str | None = None
    sla_s: float = 0.0
    band: str | None = None  # "kind/metric" when the rule is a status band's device alert (alerts/bands.py)
    # forecast rules (alerts/forecast_rule.py): the warning's reach, the history's step, points and confidence
    horizon_s: float = 1800.0
    step_s: float = 60.0
    min_points: int = 5
    confidence: float = 0.8
    baseline_days: int = 14  # anomaly: the same hour of day over this many days is the baseline
    min_history: int = 7  # anomaly: days with data for that hour before the rule may judge
    min_mad: float = 0.0  # anomaly: floor of the MAD, in the metric's units, so a flat series does not fire on noise

    def summarize(self, subject: str, value: float, threshold: float | None = None, **extra: Any) -> str:
        """The summary with its fields filled in; an unknown placeholder stays visible instead of failing.
        ``extra``: placeholders of the rule's type (a forecast's ``expected_in``, ``interval``, ``confidence``; an
        anomaly's ``usual``, ``spread``, ``score``, ``hour``)."""
        values = _Blank({**self.labels, "rule": self.id, "severity": self.severity, "subject": subject,
                         "value": value, "threshold": self.threshold if threshold is None else threshold, **extra})
        try:
            return self.summary.format_map(values)
        except (ValueError, TypeError, IndexError):
            return self.summary


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class AlertConfig(NamedTuple):
    """The whole rules file: the rules (each band's device alert among them) and the status bands."""

    rules: list[Rule]
    bands: StatusBands
    incidents: GroupingRules = GroupingRules()


def load_rules(path: Path) -> list[Rule]:
    """Read and validate the rules file; raises ``RuleError`` with every problem found."""
    return load_config(path).rules


def load_config(path: Path) -> AlertConfig:
    """Read and validate the rules file, rules and bands; raises ``RuleError`` with every problem found."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleError(str(path), ["the rules file does not exist (IOC_ALERT_RULES_FILE)"]) from None
    except tomllib.TOMLDecodeError as bad:
        raise RuleError(str(path), [f"not valid TOML: {bad}"]) from None
    return parse_config(document, source=str(path))


def parse_rules(document: Mapping[str, Any], source: str = "rules") -> list[Rule]:
    """Validate a parsed TOML document into rules: its ``[[rule]]`` tables and each ``[[band]]``'s device alert."""
    return parse_config(document, source).rules


def parse_config(document: Mapping[str, Any], source: str = "rules") -> AlertConfig:
    """Validate a parsed TOML document (``[defaults]``, ``[[rule]]``, ``[[band]]``, ``[stale_after]``)."""
    problems: list[str] = []
    unknown = set(document) - {"defaults", "rule", "band", "stale_after", "incidents"}
    problems += [f"unknown top-level table {name!r} (expected [defaults], [[rule]], [[band]], [stale_after] and "
                 "[incidents])"
                 for name in sorted(unknown)]  # fmt: skip
    bands = parse_bands(document, problems)
    defaults = document.get("defaults", {})
    if not isinstance(defaults, Mapping):
        problems.append("[defaults] must be a table")
        defaults = {}
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        problems.append("rules are written as [[rule]] tables")
        tables = []
    rules: list[Rule] = []
    seen: set[str] = set()
    band_tables = band_rule_tables(document, bands)
    for index, table in enumerate([*tables, *band_tables]):
        name = table.get("id") if isinstance(table, Mapping) and isinstance(table.get("id"), str) else f"#{index + 1}"
        rule_problems: list[str] = []
        if not isinstance(table, Mapping):
            problems.append(f"rule {name!r}: must be a [[rule]] table")
            continue
        rule = _rule({**defaults, **table}, rule_problems, set(table))
        if name in seen:
            rule_problems.append("field 'id': used by an earlier rule too; ids must be unique (a band's alert "
                                 "rule is named band_<kind>_<metric>)")  # fmt: skip
        seen.add(name)
        problems += [f"rule {name!r}: {p}" for p in rule_problems]
        if rule is not None and not rule_problems:
            if index >= len(tables):  # a band's device alert: say which band, for the listings
                rule = dataclasses.replace(rule, band=f"{table['match']['kind']}/{table['metric']}")
            rules.append(rule)
    incidents = parse_grouping(document.get("incidents"), seen, problems)
    if problems:
        raise RuleError(source, problems)
    return AlertConfig(rules, bands, incidents)


def _rule(table: Mapping[str, Any], problems: list[str], own_keys: set[str]) -> Rule | None:
    """One rule from its table (defaults merged in); appends to ``problems`` what is wrong."""
    f = _Fields(table, problems, own_keys)
    rule_id = f.text("id", pattern=_ID, hint="lower_snake_case, up to 64 characters")
    rule_type = f.choice("type", TYPES)
    severity = f.choice("severity", SEVERITIES)
    summary = f.text("summary")
    labels = f.labels()
    function = f.choice("function", tuple(FUNCTIONS), required=rule_type == "aggregate")
    source = FUNCTIONS[function] if function else f.choice("source", tuple(MATCHABLE), default="iot")
    match = f.matchers(source, MATCHABLE)
    if rule_type is None or source is None:
        f.unused(KNOWN_FIELDS, None)
        return None
    subjects = SUBJECTS[rule_type].get(source)
    if subjects is None:
        problems.append(f"field 'source': a {rule_type} rule cannot watch the {source!r} stream")
        return None
    subject = f.choice("subject", subjects, default=subjects[0])
    values: dict[str, Any] = {}
    if rule_type in ("threshold", "rate", "forecast"):
        values["metric"] = f.text("metric", pattern=_ID, hint="the measurement, e.g. pm25")
        if source == "datacenter" and values["metric"] not in (None, *SAMPLE_METRICS):
            problems.append(f"field 'metric': a data-centre sample has {', '.join(SAMPLE_METRICS)}")
        values["window_s"] = f.duration("window", default=WINDOW_DEFAULT_S[rule_type], positive=True)
    if rule_type in ("threshold", "aggregate", "forecast"):
        values["op"] = f.choice("op", OPS, default=">")
    if rule_type != "no_data":
        values["threshold"] = f.number("threshold")
        values["for_s"] = f.duration("for", default=0.0)
        values["keep_firing_for_s"] = f.duration("keep_firing_for", default=0.0)
    if rule_type == "threshold":
        values["reduce"] = f.choice("reduce", REDUCERS, default="mean")
    if rule_type in ("threshold", "aggregate"):
        values["clear_threshold"] = f.number("clear_threshold", required=False)
        _check_clear(values, problems)
    if rule_type == "rate":
        values["direction"] = f.choice("direction", ("rising", "falling"), default="rising")
    if rule_type == "forecast":
        forecast_fields(f, values, problems)
    if rule_type == "anomaly":
        _anomaly_fields(f, values, problems)
    if rule_type == "no_data":
        values["silent_for_s"] = f.duration("silent_for", positive=True)
    if function == "pue":
        values["window_s"] = f.duration("window", default=900.0, positive=True)
    if function == "open_past_sla":
        values["sla_s"] = f.duration("sla", positive=True)
    f.unused(KNOWN_FIELDS, rule_type)
    if summary is not None:
        _check_template(summary, labels, problems, FORECAST_WORDS if rule_type == "forecast" else
                        ANOMALY_PLACEHOLDERS if rule_type == "anomaly" else {})
    if problems:
        return None
    return Rule(id=rule_id, type=rule_type, severity=severity, summary=summary, source=source, subject=subject,
                labels=labels, match=match, function=function, **values)  # fmt: skip


# What an anomaly's summary may say besides the common fields, with a sample value of each one's type.
ANOMALY_PLACEHOLDERS = {"usual": 1.0, "spread": 1.0, "score": 1.0, "hour": "14:00", "days": 14}
MAX_BASELINE_DAYS = 90  # the hourly rollups keep years, but a season ago is not "usual" for today


def _anomaly_fields(f: _Fields, values: dict[str, Any], problems: list[str]) -> None:
    """The fields of an anomaly rule: the metric and its window, the baseline, the floor and the direction."""
    values["metric"] = f.text("metric", pattern=_ID, hint="the measurement, e.g. speed_kmh")
    values["window_s"] = f.duration("window", default=900.0, positive=True)
    values["direction"] = f.choice("direction", ("above", "below", "both"), default="both")
    values["clear_threshold"] = f.number("clear_threshold", required=False)
    days = _whole(f, "baseline_days", 14, problems)
    history = _whole(f, "min_history", 7, problems)
    if days is not None and not 3 <= days <= MAX_BASELINE_DAYS:
        problems.append(f"field 'baseline_days': {days} is not between 3 and {MAX_BASELINE_DAYS} days")
    elif days is not None and history is not None and not 3 <= history <= days:
        problems.append(f"field 'min_history': {history} is not between 3 and baseline_days ({days}); a median of "
                        "fewer days is one odd day away from wrong")  # fmt: skip
    else:
        values["baseline_days"], values["min_history"] = days, history
    floor = f.number("min_mad")
    if floor is not None and floor <= 0:
        problems.append("field 'min_mad': must be above zero (the smallest spread, in the metric's units, that "
                        "counts: a flat history would otherwise make any wobble an anomaly)")  # fmt: skip
    values["min_mad"] = floor
    limit, clear = values.get("threshold"), values["clear_threshold"]
    if limit is not None and limit <= 0:
        problems.append("field 'threshold': must be above zero (how many robust deviations from the usual value)")
    if limit is not None and clear is not None and not 0 < clear <= limit:
        problems.append(f"field 'clear_threshold': must be above zero and at or below the threshold {limit}")


def _whole(f: _Fields, name: str, default: int, problems: list[str]) -> int | None:
    number = f.number(name, required=False)
    if number is None:
        return default if name not in f.table else None
    if number != int(number):
        problems.append(f"field {name!r}: a whole number of days, not {number}")
        return None
    return int(number)


def _check_clear(values: dict[str, Any], problems: list[str]) -> None:
    clear, limit, op = values.get("clear_threshold"), values.get("threshold"), values.get("op")
    if clear is None or limit is None or op is None:
        return
    if (op.startswith(">") and clear > limit) or (op.startswith("<") and clear < limit):
        side = "at or below" if op.startswith(">") else "at or above"
        problems.append(f"field 'clear_threshold': must be {side} the threshold {limit} for op {op!r}")


def _check_template(summary: str, labels: Mapping[str, str], problems: list[str],
                    extra: Mapping[str, Any]) -> None:  # fmt: skip
    sample = {**labels, **extra, "rule": "r", "severity": "info", "subject": "s", "value": 1.0, "threshold": 1.0}
    try:
        summary.format_map(sample)
    except KeyError as missing:
        more = "".join(f", {name}" for name in extra)
        problems.append(f"field 'summary': unknown placeholder {missing} (use subject, value, threshold{more}, "
                        "rule, severity or a label)")  # fmt: skip
    except (ValueError, IndexError) as bad:
        problems.append(f"field 'summary': not a valid format string ({bad})")

