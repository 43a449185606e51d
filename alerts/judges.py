"""One judge per rule type: it keeps the windows of a rule's subjects and turns records into verdicts (pure).

A verdict is (subject, breaching, value); ``RuleJudge.judge`` runs it through the rule's ``Hold`` and returns a
``Change`` only when an alert fires or resolves. Holds exist only for subjects that are not plainly ok, so a rule
over 50,000 sensors costs memory for its windows, and clock ticks cost time only for the few subjects in doubt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from alerts.hold import FIRING, OK, PENDING, RECOVERING, Hold, step
from alerts.rules import Rule
from alerts.windows import RatioWindow, SlidingWindow


class Change(NamedTuple):
    """An alert of ``rule`` about ``subject`` starts (firing=True) or ends, at ``now`` with ``value``."""

    rule: Rule
    subject: str
    firing: bool
    value: float
    now: float
    prediction: Any = None  # a forecast rule's ``alerts.forecast_judge.Prediction`` when it fires
    details: Mapping[str, Any] | None = None  # what a judge adds to the summary (an anomaly's usual value, …)


def beyond(op: str, value: float, limit: float) -> bool:
    """``value <op> limit`` for the four comparison operators of the rules file."""
    if op == ">":
        return value > limit
    if op == ">=":
        return value >= limit
    if op == "<":
        return value < limit
    return value <= limit


class RuleJudge:
    """What every judge shares: the holds of its subjects, the hold/keep timing, and the cap on new subjects.

    ``new_per_minute`` (None: no cap) bounds how many subjects the judge starts tracking per minute of the
    evaluator's clock, so a producer inventing device ids cannot grow its windows without end; a record of a
    new subject past the cap is not judged and counted in ``refused_new``."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.holds: dict[str, Hold] = {}
        self.new_per_minute: int | None = None
        self.refused_new = 0
        self._minute = -1
        self._new_this_minute = 0

    def admit_new(self, now: float) -> bool:
        """Whether a subject never seen (or forgotten) may be tracked from ``now``."""
        if self.new_per_minute is None:
            return True
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._new_this_minute = minute, 0
        if self._new_this_minute < self.new_per_minute:
            self._new_this_minute += 1
            return True
        self.refused_new += 1
        return False

    def forget(self, before: float) -> int:
        """Stop tracking subjects last heard before ``before``; returns how many were dropped."""
        return 0

    def _drop(self, subjects: list[str], *tables: dict) -> int:
        for subject in subjects:
            self.holds.pop(subject, None)
            for table in tables:
                table.pop(subject, None)
        return len(subjects)

    def judge(self, subject: str, breaching: bool, value: float, now: float) -> Change | None:
        hold = self.holds.get(subject)
        if hold is None:
            if not breaching:
                return None
            hold = self.holds[subject] = Hold()
        change = step(hold, breaching, value, now, self.rule.for_s, self.rule.keep_firing_for_s)
        if hold.status == OK:
            del self.holds[subject]
        return None if change is None else Change(self.rule, subject, change == FIRING, value, now)

    def limit(self, subject: str) -> float:
        """The threshold, or the clear threshold while the subject's alert is active (hysteresis)."""
        hold = self.holds.get(subject)
        if hold is not None and hold.active and self.rule.clear_threshold is not None:
            return self.rule.clear_threshold
        return self.rule.threshold

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        raise NotImplementedError

    def tick(self, now: float) -> list[Change]:
        """Time passing: a pending breach may have held long enough, a recovery may be complete."""
        changes = []
        for subject, hold in list(self.holds.items()):
            if hold.status in (PENDING, RECOVERING):
                change = self.judge(subject, hold.breaching, hold.value, now)
                if change is not None:
                    changes.append(change)
        return changes

    def assume_firing(self, subject: str, now: float) -> None:
        """An alert is open in the store (the evaluator restarted): resolve it when the data says so."""
        self.holds[subject] = Hold(status=FIRING, since=now, value=self.rule.threshold, breaching=True)


SUBJECT_FIELD = {"device": "device_id", "district": "district", "site": "site"}


def subject_of(rule: Rule, record: Any) -> str:
    """The thing an alert is about: a device, a district, a site."""
    return getattr(record, SUBJECT_FIELD[rule.subject])


def measured(rule: Rule, record: Any) -> float | None:
    """The rule's metric in a record: a reading's value, or a named field of a power sample."""
    return record.value if rule.source == "iot" else getattr(record, rule.metric)


class WindowJudge(RuleJudge):
    """A judge keeping each subject's recent values in a sliding window of the rule's length."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self.windows: dict[str, SlidingWindow] = {}

    def _push(self, record: Any, ts: float, now: float) -> tuple[str, float, SlidingWindow] | None:
        """The record's subject, value and updated window; None when the record does not carry the metric
        (or is about a new subject past the cap)."""
        value = measured(self.rule, record)
        if value is None:
            return None
        subject = subject_of(self.rule, record)
        window = self.windows.get(subject)
        if window is None:
            if not self.admit_new(now):
                return None
            window = self.windows[subject] = SlidingWindow(self.rule.window_s)
        if not window.push(ts, value):
            return None  # older than the window: a replayed or long-delayed reading judges nothing
        return subject, value, window

    def forget(self, before: float) -> int:
        """Subjects whose newest value (by its own time) is older than ``before``."""
        return self._drop([s for s, w in self.windows.items() if w.newest < before], self.windows)


class ThresholdJudge(WindowJudge):
    """`reduce` of the subject's values over `window`, compared with the threshold."""

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        pushed = self._push(record, ts, now)
        if pushed is None:
            return None
        subject, _value, window = pushed
        reduced = window.reduce(self.rule.reduce)
        return self.judge(subject, beyond(self.rule.op, reduced, self.limit(subject)), reduced, now)


class RateJudge(WindowJudge):
    """Rise (last − lowest) or fall (highest − last) of the subject's value within `window`."""

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        pushed = self._push(record, ts, now)
        if pushed is None:
            return None
        subject, _value, window = pushed
        last = window.reduce("last")  # the newest by its own time: a late reading is not "now"
        change = last - window.reduce("min") if self.rule.direction == "rising" else window.reduce("max") - last
        return self.judge(subject, change > self.rule.threshold, change, now)


class PueJudge(RuleJudge):
    """A site's energy-weighted PUE over `window`: sum(facility_kw) / sum(it_kw) (The Green Grid)."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self.windows: dict[str, RatioWindow] = {}

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        window = self.windows.get(record.site)
        if window is None:
            if not self.admit_new(now):
                return None
            window = self.windows[record.site] = RatioWindow(self.rule.window_s)
        if not window.push(ts, record.facility_kw, record.it_kw):
            return None  # older than the window
        pue = window.ratio()
        if pue is None:
            return None
        return self.judge(record.site, beyond(self.rule.op, pue, self.limit(record.site)), pue, now)

    def forget(self, before: float) -> int:
        """Sites whose newest sample (by its own time) is older than ``before``."""
        return self._drop([s for s, w in self.windows.items() if w.newest < before], self.windows)
