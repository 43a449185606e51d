"""Anomaly rules: a district's value far from its own seasonal baseline (pure: no I/O, no wall clock).

The baseline of a subject at an hour of the day is what that hour looked like on each of the last
``baseline_days`` days: one value per day (the hour's mean, from the hourly rollups), summarised robustly by the
median (*usual*) and the median absolute deviation, scaled by 1.4826 so that it estimates a standard deviation
for normal data (*spread*). A few odd days (a jam, a holiday) move neither, where a mean and a standard deviation
would follow them. The score of a value is ``(value − usual) / spread``; the spread is at least the rule's
``min_mad`` × 1.4826, so a series that was flat for two weeks does not make the next wobble an anomaly. An
hour's baseline stands for the hour's middle, and a window's mean for the window's middle: between two hours'
middles the baseline is interpolated.

The worker loads the per-day values at the edge (``alerts/baselines.py``) and hands a ``Baselines`` to each
anomaly judge; judging a reading is then a window push, its mean and a dictionary look-up (the interpolated
baseline is kept per district for a minute), never a query.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from alerts.judges import Change, WindowJudge
from alerts.rules import Rule
from alerts.windows import SlidingWindow

MAD_SCALE = 1.4826  # MAD × this estimates σ for normally distributed values
HOUR_CACHE_LIMIT = 4096  # epoch hours → local hour of day: half a year of hours, a few hundred kB at most


class Baseline(NamedTuple):
    """One subject at one hour of the day: the median of its daily values, their MAD, and how many days."""

    usual: float
    mad: float
    days: int


def robust_baseline(values: Iterable[float]) -> Baseline | None:
    """Median and median absolute deviation of ``values`` (one per day); None without any."""
    values = list(values)
    if not values:
        return None
    usual = statistics.median(values)
    return Baseline(usual, statistics.median(abs(v - usual) for v in values), len(values))


def spread(baseline: Baseline, min_mad: float) -> float:
    """The scaled MAD, floored at the scaled ``min_mad`` (always above zero for a valid rule)."""
    return MAD_SCALE * max(baseline.mad, min_mad)


def score(value: float, baseline: Baseline, min_mad: float) -> float:
    """How many spreads ``value`` lies above (positive) or below (negative) the usual value."""
    return (value - baseline.usual) / spread(baseline, min_mad)


def beyond_normal(signed_score: float, direction: str, limit: float) -> bool:
    """Whether a score breaches ``limit`` in the rule's direction (above, below or both)."""
    if direction == "above":
        return signed_score > limit
    if direction == "below":
        return -signed_score > limit
    return abs(signed_score) > limit


class LocalHours:
    """The local hour of day of an epoch time in one time zone, cached per epoch hour (cheap per reading).

    Zones whose offset is not a whole number of hours still map each UTC hour to the local hour it starts in."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)
        self._cache: dict[int, int] = {}

    def __call__(self, ts: float) -> int:
        epoch_hour = int(ts // 3600)
        hour = self._cache.get(epoch_hour)
        if hour is None:
            if len(self._cache) >= HOUR_CACHE_LIMIT:
                self._cache.clear()
            hour = self._cache[epoch_hour] = datetime.fromtimestamp(epoch_hour * 3600, UTC).astimezone(self.zone).hour
        return hour


class Baselines:
    """Per (subject, local hour of day), the baseline; ``hour_of`` maps a reading's time to its local hour."""

    def __init__(self, by_hour: Mapping[tuple[str, int], Baseline], hour_of: LocalHours) -> None:
        self.by_hour = dict(by_hour)
        self.hour_of = hour_of

    def __len__(self) -> int:
        return len(self.by_hour)

    def at(self, subject: str, ts: float) -> tuple[int, Baseline | None]:
        """The local hour of ``ts`` and the subject's baseline at that moment (None: no history for the hour).

        An hour's baseline is the mean of the whole hour, so it stands for the hour's middle; between two middles
        the usual value and the MAD are interpolated linearly from the two hours (with the fewer days of the two).
        Without it a rush hour that ends at 08:40 would be judged all of 08:00–09:00 against the hour's mean,
        and the last minutes before 09:00 against a 09:00 that has already recovered."""
        hour = self.hour_of(ts)
        own = self.by_hour.get((subject, hour))
        if own is None:
            return hour, None
        offset = (ts % 3600.0) / 3600.0 - 0.5  # −0.5 … 0.5 from the hour's middle
        other = self.by_hour.get((subject, (hour + (1 if offset > 0 else -1)) % 24))
        if other is None or offset == 0:
            return hour, own
        weight = abs(offset)
        return hour, Baseline(own.usual + weight * (other.usual - own.usual), own.mad + weight * (other.mad - own.mad),
                              min(own.days, other.days))  # fmt: skip


def baselines_from_days(rows: Iterable[tuple[str, float, float]], zone: str, days: int) -> Baselines:
    """Baselines from (subject, hour bucket start in epoch seconds, the hour's mean) rows, keeping per subject and
    local hour the newest ``days`` values (the query asks for that many days, but a zone's autumn hour comes
    twice)."""
    hour_of = LocalHours(zone)
    by_hour: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for subject, bucket, mean in rows:
        by_hour.setdefault((subject, hour_of(bucket)), []).append((bucket, mean))
    baselines = {}
    for key, dated in by_hour.items():
        dated.sort(reverse=True)
        baseline = robust_baseline(mean for _, mean in dated[:days])
        if baseline is not None:
            baselines[key] = baseline
    return Baselines(baselines, hour_of)


class AnomalyDetail(NamedTuple):
    """What an anomaly alert says besides its value: the usual value, the spread, the score, the local hour."""

    usual: float
    spread: float
    score: float
    hour: str
    days: int

    def annotations(self) -> dict[str, Any]:
        return self._asdict()


class AnomalyJudge(WindowJudge):
    """The mean of a subject's readings over `window`, scored against its baseline at the window's middle.

    Without baselines yet, or with fewer than `min_history` days of that hour, a reading is not judged: an alert
    already firing then keeps its state until there is a baseline to judge it by."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule)
        self._baselines: Baselines | None = None
        self.details: dict[str, AnomalyDetail] = {}  # only for subjects with a hold: what their alert says
        # Per subject, the baseline of the minute its window's middle is in: the interpolation moves by a sixtieth
        # of an hour's difference in a minute, and looking it up per reading was a third of the judge's time.
        self._baseline_minute: dict[str, tuple[int, int, Baseline | None]] = {}

    @property
    def baselines(self) -> Baselines | None:
        """The baselines the worker last loaded (None before the first load)."""
        return self._baselines

    @baselines.setter
    def baselines(self, baselines: Baselines | None) -> None:
        self._baselines = baselines
        self._baseline_minute.clear()

    def observe(self, record: Any, ts: float, now: float) -> Change | None:
        pushed = self._push(record, ts, now)
        if pushed is None or self._baselines is None:
            return None
        subject, _value, window = pushed
        hour, baseline = self.baseline_for(subject, window)
        rule = self.rule
        if baseline is None or baseline.days < rule.min_history:
            return None
        mean = window.reduce("mean")
        signed = score(mean, baseline, rule.min_mad)
        held = subject in self.holds
        breaching = beyond_normal(signed, rule.direction, self.limit(subject) if held else rule.threshold)
        if not (breaching or held):
            return None  # the usual case: nothing to hold, nothing to say
        self.details[subject] = AnomalyDetail(baseline.usual, spread(baseline, rule.min_mad), signed,
                                              f"{hour:02d}:00", baseline.days)  # fmt: skip
        return self.judge(subject, breaching, mean, now)

    def baseline_for(self, subject: str, window: SlidingWindow) -> tuple[int, Baseline | None]:
        """The local hour and the baseline at the middle of the subject's window (what its mean stands for), as of
        the start of that minute."""
        minute = int((window.newest - self.rule.window_s / 2) // 60)
        known = self._baseline_minute.get(subject)
        if known is None or known[0] != minute:
            known = self._baseline_minute[subject] = (minute, *self.baselines.at(subject, minute * 60.0))
        return known[1], known[2]

    def judge(self, subject: str, breaching: bool, value: float, now: float) -> Change | None:
        change = super().judge(subject, breaching, value, now)
        detail = self.details.get(subject)
        if subject not in self.holds:
            self.details.pop(subject, None)
        if change is not None and detail is not None:
            change = change._replace(details=detail.annotations())
        return change

    def forget(self, before: float) -> int:
        gone = [s for s, w in self.windows.items() if w.newest < before]
        for subject in gone:
            self.details.pop(subject, None)
            self._baseline_minute.pop(subject, None)
        return self._drop(gone, self.windows)
