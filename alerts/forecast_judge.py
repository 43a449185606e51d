"""The judge of `type = "forecast"` rules: warn before a subject's value reaches the rule's level (pure).

Per subject it keeps the mean of its readings per `step` (one running sum for the step under way, and at most
`window / step` closed steps: bounded memory), and only when a step closes does it ask ``forecast.crossing`` when
the level will be reached. A reading costs a few additions; a refit costs about a millisecond, happens at most
once per step per subject, and only for subjects whose cheap least-squares slope stands clear of the noise and
heads for the level within twice the horizon (most sensors, most of the time, are nowhere near it: never fitted).

Refits are not done on the reading's path: a subject that passes the cheap test is queued, and each clock tick
fits at most ``FITS_PER_TICK`` of the queue, oldest first, so a burst of step closes (or a noisy feed keeping
the test open) delays forecasts, never the judging of the batch the other rules' alerts are in (bench/alerts.py
--forecast). Each subject's steps are also offset by a hash of its name, so a city's subjects do not all close
their steps, and queue their refits, in the same second.

The verdict of a closed step is "breaching" when the level is expected within `horizon` and the slowest trend in
the interval at `confidence` still heads towards it (the rise is real, not noise). The prediction comes true when
the step under way already averages beyond the level: the verdict turns clear, and after `keep_firing_for` the
predicted alert resolves, handing over to the rule that watches the level itself.

While the alert is open every refit is compared with the forecast its row holds; one that moved by more than
``moved``'s tolerance is handed out by ``take_revisions`` (a tick's worth at a time, never on a reading's path),
and the store writes them onto the open alerts in one statement, without an event or a webhook.
"""

from __future__ import annotations

import zlib
from collections import deque
from statistics import NormalDist
from typing import Any, NamedTuple

from alerts.judges import SUBJECT_FIELD, Change, RuleJudge, beyond
from alerts.rules import Rule
from forecast import crossing_of, fit_trend

GATE_REACH = 2.0  # the cheap slope must reach the level within this many horizons before Theil–Sen is fitted
FITS_PER_TICK = 5  # a few ms of fitting a second at most (bench/predict.py measures a fit at 0.6-0.8 ms)
# A refit is written onto the open alert when its expected time (or an end of its interval) moved by more than
# the larger of these. A minute: screens count the lead in whole minutes and a forecast is refitted once a step
# (a minute in the shipped rules), so a smaller move changes no figure an officer reads by more than one.
# A tenth of the lead: "in about 100 minutes" against 108 changes no decision, and such wobble is well inside the
# forecast's own interval, while at 10 minutes or less every minute is written.
MOVE_MIN_S = 60.0
MOVE_SHARE_OF_LEAD = 0.1


class Prediction(NamedTuple):
    """What a forecast said at ``made_at``: the level expected at ``expected``, within ``earliest``…``latest``
    (None: not bounded) at ``confidence`` (epoch seconds)."""

    made_at: float
    expected: float
    earliest: float
    latest: float | None
    confidence: float


def moved(held: Prediction | None, fresh: Prediction) -> bool:
    """Whether ``fresh`` differs enough from ``held`` (the forecast the open alert's row holds; None: unknown, as
    after a restart) to be written: its expected time or an end of its interval moved by more than a minute and
    more than a tenth of the fresh lead (counted from when it was made)."""
    if held is None or (held.latest is None) != (fresh.latest is None):
        return True
    tolerance = max(MOVE_MIN_S, MOVE_SHARE_OF_LEAD * max(0.0, fresh.expected - fresh.made_at))
    shifts = [fresh.expected - held.expected, fresh.earliest - held.earliest]
    if fresh.latest is not None:
        shifts.append(fresh.latest - held.latest)
    return max(abs(shift) for shift in shifts) > tolerance


class StepSeries:
    """One subject's mean value per step, the newest ``size`` closed steps and the step under way."""

    __slots__ = ("step", "offset", "times", "means", "_start", "_sum", "_count")

    def __init__(self, step_s: float, size: int, offset: float = 0.0) -> None:
        self.step = step_s
        self.offset = offset  # where this subject's steps start within the step (seconds)
        self.times: deque[float] = deque(maxlen=size)  # each closed step's middle
        self.means: deque[float] = deque(maxlen=size)
        self._start = float("-inf")
        self._sum = 0.0
        self._count = 0

    def push(self, ts: float, value: float) -> bool:
        """Add a reading; True when it opened a new step (the previous one closed). A reading from a step
        already closed is left out: it could only move a mean the forecast has used."""
        if ts < self._start:
            return False
        if ts < self._start + self.step:
            self._sum += value
            self._count += 1
            return False
        closed = self._count > 0
        if closed:
            self.times.append(self._start + self.step / 2)
            self.means.append(self._sum / self._count)
        self._start = ts - (ts - self.offset) % self.step
        self._sum, self._count = value, 1
        return closed

    @property
    def current(self) -> float:
        """The mean of the step under way."""
        return self._sum / self._count

    @property
    def newest(self) -> float:
        """Start of the step under way (-inf before the first reading)."""
        return self._start

    def heading(self, threshold: float, op: str, reach_s: float, z: float) -> bool:
        """Whether the least-squares line through the closed steps gets to ``threshold`` within ``reach_s`` with
        a slope ``z`` standard errors from flat: a cheap test that lets noise and slow drifts skip the fit."""
        n = len(self.means)
        if n < 3:
            return False
        t0 = self.times[-1]
        mx = sum(self.times) / n - t0
        my = sum(self.means) / n
        sxx = sxy = syy = 0.0
        for t, v in zip(self.times, self.means, strict=True):
            dx, dy = t - t0 - mx, v - my
            sxx += dx * dx
            sxy += dx * dy
            syy += dy * dy
        if sxx <= 0:
            return False
        slope = sxy / sxx
        scatter = max(0.0, syy - slope * sxy) / (n - 2)  # the residuals' variance
        if slope * slope * sxx <= z * z * scatter:  # |slope| / its standard error <= z
            return False
        return beyond(op, my - slope * mx + slope * reach_s, threshold)  # the line, ``reach_s`` after the newest


class ForecastJudge(RuleJudge):
    """Predicted alerts of one forecast rule: fires when the level is expected within the horizon."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self.series: dict[str, StepSeries] = {}
        self.predictions: dict[str, Prediction] = {}  # the latest forecast of each subject that has a hold
        self.written: dict[str, Prediction] = {}  # the forecast each open alert's row holds, as far as we know
        self.revisions: dict[str, Change] = {}  # forecasts of open alerts that moved, not yet taken by the worker
        self.fits = 0  # Theil–Sen fits so far (the benchmark reports them)
        self.due: dict[str, None] = {}  # subjects waiting for a refit, oldest first (at most one entry each)
        self.z = NormalDist().inv_cdf(0.5 + rule.confidence / 2)
        self._subject_field = SUBJECT_FIELD[rule.subject]

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        value = record.value  # forecast rules watch readings (source "iot")
        subject = getattr(record, self._subject_field)
        series = self.series.get(subject)
        if series is None:
            if not self.admit_new(now):
                return None
            rule = self.rule
            offset = zlib.crc32(subject.encode()) % max(1, int(rule.step_s * 1000)) / 1000
            series = self.series[subject] = StepSeries(rule.step_s, int(rule.window_s // rule.step_s), offset)
        if not series.push(ts, value):
            if subject in self.holds and beyond(self.rule.op, series.current, self.rule.threshold):
                self.due.pop(subject, None)
                return self.judge(subject, False, series.current, now)  # it came true: the level itself is here
            return None
        if self._worth_fitting(series):
            self.due[subject] = None
            return None
        self.due.pop(subject, None)
        if subject not in self.holds:
            return None  # plainly ok, as it was: nothing to judge
        if len(series.means) < self.rule.min_points:
            # An alert restored by a new leader (``assume_firing``) whose history is still too short to fit: no
            # verdict yet, so the alert is not resolved for want of data (and fired again minutes later).
            return None
        return self.judge(subject, False, series.means[-1], now)

    def _worth_fitting(self, series: StepSeries) -> bool:
        """Not reached yet, enough history, and the cheap least-squares test says the level may be near."""
        rule = self.rule
        if beyond(rule.op, series.means[-1], rule.threshold) or beyond(rule.op, series.current, rule.threshold):
            return False  # reached: no longer a prediction
        return len(series.means) >= rule.min_points and series.heading(
            rule.threshold, rule.op, GATE_REACH * rule.horizon_s, self.z
        )

    def tick(self, now: float) -> list[Change]:
        """Refit up to ``FITS_PER_TICK`` queued subjects, then let holds time out as every judge does."""
        changes = []
        for subject in list(self.due)[:FITS_PER_TICK]:
            del self.due[subject]
            series = self.series.get(subject)
            if series is None:
                continue
            fresh = self._fit(subject, series)
            change = self.judge(subject, fresh is not None, series.means[-1], now)
            if change is not None:
                changes.append(change)
            elif fresh is not None:
                self._revise(subject, fresh, series.means[-1], now)
        return changes + super().tick(now)

    def _revise(self, subject: str, fresh: Prediction, value: float, now: float) -> None:
        """A refit of a subject whose alert is open: kept for the store if it moved from what the row holds."""
        hold = self.holds.get(subject)
        if hold is not None and hold.active and moved(self.written.get(subject), fresh):
            self.written[subject] = fresh
            self.revisions[subject] = Change(self.rule, subject, True, value, now, fresh)

    def take_revisions(self) -> list[Change]:
        """The moved forecasts of open alerts since the last call (at most one per subject: the newest)."""
        taken, self.revisions = list(self.revisions.values()), {}
        return taken

    def _fit(self, subject: str, series: StepSeries) -> Prediction | None:
        """The verdict of a refit: the prediction when the level is expected (breaching), else None."""
        rule = self.rule
        self.fits += 1
        trend = fit_trend(series.times, series.means, rule.confidence)
        found = None if trend is None else crossing_of(trend, rule.threshold, rule.op, rule.horizon_s)
        if found is None or found.latest is None or found.reached:
            return None
        at = series.times[-1]
        prediction = Prediction(at, found.expected, found.earliest, found.latest, rule.confidence)
        self.predictions[subject] = prediction
        return prediction

    def judge(self, subject: str, breaching: bool, value: float, now: float) -> Change | None:
        change = super().judge(subject, breaching, value, now)
        prediction = self.predictions.get(subject)
        if subject not in self.holds:
            self.predictions.pop(subject, None)
        if change is not None and not change.firing:
            self.written.pop(subject, None)  # resolved: a revision still waiting would find no open alert
            self.revisions.pop(subject, None)
        if change is not None and change.firing:
            if prediction is not None:
                self.written[subject] = prediction
            return change._replace(prediction=prediction)
        return change

    def forget(self, before: float) -> int:
        """Subjects whose newest reading (by its own time) is older than ``before``."""
        gone = [s for s, series in self.series.items() if series.newest + self.rule.step_s < before]
        return self._drop(gone, self.series, self.predictions, self.due, self.written, self.revisions)
