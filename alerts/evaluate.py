"""Evaluate the rules against records as they arrive, and against the clock (pure: no I/O, no wall clock).

The worker feeds parsed records (``SensorReading``, ``ComplaintEvent``, ``PowerSample`` from ``streams/``) with
the time it read them, and calls ``tick`` about once a second; both return ``Condition``s, only when an alert of
a rule+subject starts firing or stops. Deduplication against open alerts is the store's job; this stage says
what is true. Flapping is damped here, by `keep_firing_for` and `clear_threshold` (see ``alerts/hold.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from alerts.anomaly import AnomalyJudge, Baselines
from alerts.clock_judges import NoDataJudge, OpenPastSlaJudge
from alerts.device_hours import CLOSE_AFTER_S, DeviceHours
from alerts.forecast_judge import ForecastJudge, Prediction
from alerts.judges import Change, PueJudge, RateJudge, RuleJudge, ThresholdJudge, subject_of
from alerts.rules import Rule
from i18n.alert_text import forecast_words

# The record fields a cached routing decision depends on, per stream kind (the rules' matchers and metric).
ROUTE_KEY = {"iot": ("kind", "metric", "district"), "datacenter": ("site",), "complaints": ("district", "category")}
ROUTE_CACHE_LIMIT = 200_000
FORGET_EVERY_S = 60.0  # forgetting walks every subject of every rule: once a minute is plenty for days-long horizons


def counts_device_hours(rule: Rule) -> bool:
    """A per-device anomaly rule: its devices' hourly means are counted here (``alerts/device_hours.py``)."""
    return rule.type == "anomaly" and rule.subject == "device"


class SubjectLimits(NamedTuple):
    """How many new subjects each rule starts tracking per minute, per stream kind, and after how long without
    a record a subject is forgotten (seconds; it must exceed every no-data rule's `silent_for`)."""

    new_per_minute: Mapping[str, int]
    forget_after_s: float


def forget_horizon_problems(rules: Iterable[Rule], forget_after_s: float) -> list[str]:
    """Rules whose `silent_for` reaches the forgetting horizon: their silent devices would be forgotten
    before (or as) they are missed."""
    return [
        f"rule {r.id!r}: silent_for {r.silent_for_s:g} s is not below IOC_DEVICE_FORGET_AFTER_HOURS "
        f"({forget_after_s:g} s): a silent device would be forgotten before it is missed"
        for r in rules
        if r.type == "no_data" and r.subject != "stream" and r.silent_for_s >= forget_after_s
    ]


class Condition(NamedTuple):
    """An alert of rule ``rule_id`` about ``subject`` is now firing, or has stopped (``firing`` False)."""

    rule_id: str
    subject: str
    firing: bool
    value: float
    threshold: float | None
    severity: str
    summary: str
    labels: Mapping[str, str]
    at: datetime
    prediction: Prediction | None = None  # a forecast rule's: when the level is expected (a predicted alert)
    annotations: Mapping[str, Any] = {}  # noqa: RUF012 - never mutated; what the summary said besides the value


def make_judge(rule: Rule, started: float) -> RuleJudge:
    """The judge for a rule's type."""
    if rule.type == "threshold":
        return ThresholdJudge(rule)
    if rule.type == "rate":
        return RateJudge(rule)
    if rule.type == "no_data":
        return NoDataJudge(rule, started)
    if rule.type == "forecast":
        return ForecastJudge(rule)
    if rule.type == "anomaly":
        return AnomalyJudge(rule)
    if rule.function == "pue":
        return PueJudge(rule)
    return OpenPastSlaJudge(rule)


def accepts(rule: Rule, record: Any) -> bool:
    """Whether a record of the rule's stream passes its matchers (and carries its metric)."""
    if rule.source == "iot" and rule.metric is not None and record.metric != rule.metric:
        return False
    return all(getattr(record, key) in wanted for key, wanted in rule.match.items())


class HeardDevice(NamedTuple):
    """A device as the store last heard it (``sensor_latest``): what no-data rules match and name it by."""

    device_id: str
    kind: str
    metric: str
    district: str


class HeardSite(NamedTuple):
    """A data-centre site as the store last heard it (``datacenter_latest``)."""

    site: str


class Evaluator:
    """The rules' windows and holds; one instance per evaluating process (it is the leader's memory)."""

    def __init__(self, rules: Sequence[Rule], started: float, limits: SubjectLimits | None = None) -> None:
        problems = forget_horizon_problems(rules, limits.forget_after_s) if limits else []
        if problems:
            raise ValueError("; ".join(problems))
        self.judges = {rule.id: make_judge(rule, started) for rule in rules}
        self.limits = limits
        self._next_forget = started + FORGET_EVERY_S
        if limits is not None:
            for judge in self.judges.values():
                judge.new_per_minute = limits.new_per_minute.get(judge.rule.source)
        self._by_source: dict[str, list[RuleJudge]] = {}
        for judge in self.judges.values():
            self._by_source.setdefault(judge.rule.source, []).append(judge)
        self._routes: dict[tuple, list[RuleJudge | DeviceHours]] = {}
        self._forecasts = [judge for judge in self.judges.values() if isinstance(judge, ForecastJudge)]
        # Hourly means of the devices per-device anomaly rules watch: routed like a judge, once per reading however
        # many of those rules accept it, so two rules on one metric never count a reading twice.
        self.device_hours = DeviceHours() if any(counts_device_hours(r) for r in rules) else None
        self._next_close = started + FORGET_EVERY_S

    def _route(self, kind: str, record: Any) -> list[RuleJudge | DeviceHours]:
        key = (kind, *(getattr(record, f) for f in ROUTE_KEY[kind]))
        judges = self._routes.get(key)
        if judges is None:
            if len(self._routes) > ROUTE_CACHE_LIMIT:
                self._routes.clear()
            judges = [j for j in self._by_source.get(kind, ()) if accepts(j.rule, record)]
            if self.device_hours is not None and any(counts_device_hours(j.rule) for j in judges):
                judges = [self.device_hours, *judges]
            self._routes[key] = judges
        return judges

    def observe(self, kind: str, records: Iterable[Any], now: float) -> list[Condition]:
        """Records of one stream kind ('iot', 'complaints', 'datacenter'), read at ``now`` (epoch seconds)."""
        if kind not in self._by_source:
            return []
        changes = []
        for record in records:
            judges = self._route(kind, record)
            if judges:
                ts = record.ts.timestamp()
                for judge in judges:
                    change = judge.observe(record, ts, now)
                    if change is not None:
                        changes.append(change)
        return [condition(c) for c in changes]

    def observe_batch(self, batch: Any, now: float) -> list[Condition]:
        """All records of a ``storage.event_store.Batch`` (what ``streams.batching.parse_entries`` returns)."""
        return (self.observe("iot", batch.readings, now) + self.observe("complaints", batch.complaints, now)
                + self.observe("datacenter", batch.samples, now))  # fmt: skip

    def tick(self, now: float) -> list[Condition]:
        """Let time pass: holds complete, silences lengthen, complaints age past their SLA, and (once a minute)
        subjects silent past the forgetting horizon are dropped and the hours of quiet devices closed."""
        if self.limits is not None and now >= self._next_forget:
            self._next_forget = now + FORGET_EVERY_S
            self.forget(now - self.limits.forget_after_s)
        if self.device_hours is not None and now >= self._next_close:
            self._next_close = now + FORGET_EVERY_S
            self.device_hours.close_before(now - CLOSE_AFTER_S)  # devices gone quiet: their hour is over
        return [condition(change) for judge in self.judges.values() for change in judge.tick(now)]

    def take_revisions(self) -> list[Condition]:
        """Open predicted alerts whose forecast moved since it was last written (``forecast_judge.moved``), as
        firing conditions carrying the new forecast: the worker hands them to ``AlertStore.revise`` after a tick.
        Each is taken once."""
        return [condition(change) for judge in self._forecasts for change in judge.take_revisions()]

    def forget(self, before: float) -> int:
        """Every rule stops tracking subjects last heard before ``before``; returns how many were dropped.

        An alert still open about a forgotten subject stays open in the store for a person to resolve."""
        return sum(judge.forget(before) for judge in self.judges.values())

    def refused_new(self) -> dict[str, int]:
        """Rule id → records of new subjects not judged because of the cap on new subjects per minute."""
        return {rule_id: judge.refused_new for rule_id, judge in self.judges.items() if judge.refused_new}

    def assume_firing(self, rule_id: str, subject: str, now: float) -> None:
        """Restore an alert open in the store, so it resolves when its condition clears (after a restart)."""
        judge = self.judges.get(rule_id)
        if judge is not None:
            judge.assume_firing(subject, now)

    def heard_horizons(self) -> dict[str, float]:
        """Per stream kind, how far back a new leader should look for devices or sites heard (seconds): the
        longest ``silent_for`` of its per-device or per-site no-data rules; kinds without one are left out."""
        horizons: dict[str, float] = {}
        for judge in self.judges.values():
            rule = judge.rule
            if isinstance(judge, NoDataJudge) and rule.subject != "stream":
                horizons[rule.source] = max(rule.silent_for_s, horizons.get(rule.source, 0.0))
        return horizons

    def seed_heard(self, kind: str, record: Any, last_ts: float, now: float) -> None:
        """A device or site the store last heard from at ``last_ts``: no-data rules watching it start counting its
        silence from then, if it was heard within their ``silent_for`` (one silent longer was either alerted on
        already, and that open alert is restored, or is not this evaluator's to discover)."""
        for judge in self._by_source.get(kind, ()):
            rule = judge.rule
            if (isinstance(judge, NoDataJudge) and rule.subject != "stream" and now - last_ts <= rule.silent_for_s
                    and accepts(rule, record)):  # fmt: skip
                judge.heard(subject_of(rule, record), min(last_ts, now))

    def anomaly_rules(self) -> list[Rule]:
        """The anomaly rules, whose baselines the worker loads (``set_baselines``)."""
        return [judge.rule for judge in self.judges.values() if isinstance(judge, AnomalyJudge)]

    def set_baselines(self, rule_id: str, baselines: Baselines) -> None:
        """Hand an anomaly rule the baselines loaded for it; they replace the ones it had."""
        judge = self.judges.get(rule_id)
        if isinstance(judge, AnomalyJudge):
            judge.baselines = baselines

    def seed_open_complaint(self, request_id: str, opened_at: float, district: str, category: str) -> None:
        """A request open in the store at start; SLA rules whose matchers accept it count it."""
        for judge in self._by_source.get("complaints", ()):
            if isinstance(judge, OpenPastSlaJudge) and all(
                {"district": district, "category": category}[key] in wanted for key, wanted in judge.rule.match.items()
            ):
                judge.seed(request_id, opened_at, district)


def condition(change: Change) -> Condition:
    """A judge's change as the store's input, with its summary written out."""
    rule = change.rule
    threshold = None if rule.type == "no_data" else rule.threshold
    limit = rule.silent_for_s if rule.type == "no_data" else rule.threshold
    details = dict(change.details or {})
    words = forecast_words(change.prediction, "en") if change.prediction is not None else {}
    return Condition(
        rule.id, change.subject, change.firing, change.value, threshold, rule.severity,
        rule.summarize(change.subject, change.value, limit, **details, **words), rule.labels,
        datetime.fromtimestamp(change.now, UTC), change.prediction, details,
    )  # fmt: skip
