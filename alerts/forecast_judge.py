"""The judge of `type = "forecast"` rules: warn before a subject's value reaches the rule's level (pure).

Per subject it keeps the mean of its readings per `step` (one running sum for the step under way, and at most
`window / step` closed steps: bounded memory), and only when a step closes does it ask ``forecast.crossing`` when
the level will be reached. A reading costs a few additions; a refit costs about a millisecond, happens at most
once per step per subject, and only for subjects whose cheap least-squares slope stands clear of the noise and
heads for the level within twice the horizon (most sensors, most of the time, are nowhere near it: never fitted).

The verdict of a closed step is "breaching" when the level is expected within `horizon` and the slowest trend in
the interval at `confidence` still heads towards it (the rise is real, not noise). The prediction comes true when
the step under way already averages beyond the level: the verdict turns clear, and after `keep_firing_for` the
predicted alert resolves, handing over to the rule that watches the level itself.
"""

from __future__ import annotations

from collections import deque
from statistics import NormalDist
from typing import Any, NamedTuple

from alerts.judges import Change, RuleJudge, beyond, measured, subject_of
from alerts.rules import Rule
from forecast import crossing_of, fit_trend

GATE_REACH = 2.0  # the cheap slope must reach the level within this many horizons before Theil–Sen is fitted


class Prediction(NamedTuple):
    """What a forecast said at ``made_at``: the level expected at ``expected``, within ``earliest``…``latest``
    (None: not bounded) at ``confidence`` (epoch seconds)."""

    made_at: float
    expected: float
    earliest: float
    latest: float | None
    confidence: float


class StepSeries:
    """One subject's mean value per step, the newest ``size`` closed steps and the step under way."""

    __slots__ = ("step", "times", "means", "_start", "_sum", "_count")

    def __init__(self, step_s: float, size: int) -> None:
        self.step = step_s
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
        self._start = ts - ts % self.step
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
        self.fits = 0  # Theil–Sen fits so far (the benchmark reports them)
        self.z = NormalDist().inv_cdf(0.5 + rule.confidence / 2)

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        value = measured(self.rule, record)
        if value is None:
            return None
        subject = subject_of(self.rule, record)
        series = self.series.get(subject)
        if series is None:
            if not self.admit_new(now):
                return None
            series = self.series[subject] = StepSeries(self.rule.step_s, int(self.rule.window_s // self.rule.step_s))
        if not series.push(ts, value):
            if subject in self.holds and beyond(self.rule.op, series.current, self.rule.threshold):
                return self.judge(subject, False, series.current, now)  # it came true: the level itself is here
            return None
        return self.judge(subject, self._verdict(subject, series), series.means[-1], now)

    def _verdict(self, subject: str, series: StepSeries) -> bool:
        rule = self.rule
        if beyond(rule.op, series.means[-1], rule.threshold) or beyond(rule.op, series.current, rule.threshold):
            return False  # reached: no longer a prediction
        if len(series.means) < rule.min_points or not series.heading(rule.threshold, rule.op,
                                                                         GATE_REACH * rule.horizon_s, self.z):
            return False
        self.fits += 1
        trend = fit_trend(series.times, series.means, rule.confidence)
        found = None if trend is None else crossing_of(trend, rule.threshold, rule.op, rule.horizon_s)
        if found is None or found.latest is None or found.reached:
            return False
        at = series.times[-1]
        self.predictions[subject] = Prediction(at, found.expected, found.earliest, found.latest, rule.confidence)
        return True

    def judge(self, subject: str, breaching: bool, value: float, now: float) -> Change | None:
        change = super().judge(subject, breaching, value, now)
        prediction = self.predictions.get(subject)
        if subject not in self.holds:
            self.predictions.pop(subject, None)
        if change is not None and change.firing:
            return change._replace(prediction=prediction)
        return change

    def forget(self, before: float) -> int:
        """Subjects whose newest reading (by its own time) is older than ``before``."""
        gone = [s for s, series in self.series.items() if series.newest + self.rule.step_s < before]
        return self._drop(gone, self.series, self.predictions)
