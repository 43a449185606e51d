"""A robust straight-line trend through a subject's recent points, its projection and its crossing of a level.

The trend is Theil–Sen (the median of the slopes between every pair of points; ``scipy.stats.theilslopes``):
one reading in three may be wild and the slope stays put, which a least-squares line or exponential smoothing
do not offer, and it needs no tuning. Its confidence interval for the slope, at the interval's level, gives the
fan of the projection; the robust spread of the points around the line (1.4826 × MAD, the normal-consistent
scale) widens it by the noise a single future point carries:

    mean(t) = now + slope · (t − at)
    low(t)  = now + slope_low  · (t − at) − spread        spread = z(level) · 1.4826 · MAD(residuals)
    high(t) = now + slope_high · (t − at) + spread

``at`` is the newest point's time and ``now`` the line's value there. A level is expected to be crossed where
``mean`` reaches it, at the earliest where the band's near edge does and at the latest where its far edge does
(never, within any horizon, when the slowest slope does not head towards it). Times are seconds on any clock,
values any unit; everything here is pure and bounded: at most ``MAX_POINTS`` newest points are used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from scipy.stats import theilslopes

MAX_POINTS = 512  # Theil–Sen is O(n²) in pairs: 512 points is 130,000 slopes, about 10 ms
MIN_POINTS = 3  # fewer than three points have no spread to measure
MAD_TO_SIGMA = 1.4826
OPS = (">", ">=", "<", "<=")


@dataclass(frozen=True, slots=True)
class Trend:
    """A fitted line: the value ``now`` at time ``at`` (the newest point), its ``slope`` per second with the
    interval ``slope_low``…``slope_high``, and ``spread``, the half-width of the noise band, at ``level``."""

    at: float
    now: float
    slope: float
    slope_low: float
    slope_high: float
    spread: float
    level: float
    points: int

    def value(self, t: float) -> tuple[float, float, float]:
        """(mean, low, high) of the value at time ``t`` (extrapolated past ``at``)."""
        dt = t - self.at
        return (self.now + self.slope * dt, self.now + min(self.slope_low * dt, self.slope_high * dt) - self.spread,
                self.now + max(self.slope_low * dt, self.slope_high * dt) + self.spread)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Projection:
    """A forecast to draw: at each of ``times`` the expected value ``mean`` and the interval ``low``…``high``
    (at ``level``, e.g. 0.8 for 80 %). ``times[0]`` is the newest point's time."""

    times: tuple[float, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    level: float


@dataclass(frozen=True, slots=True)
class Crossing:
    """When the value is expected to reach ``threshold``: at ``expected`` (seconds, the input's clock), at the
    earliest ``earliest``, at the latest ``latest`` (None: the slowest trend in the interval never gets there).
    ``reached``: the fitted value is there already."""

    threshold: float
    expected: float
    earliest: float
    latest: float | None
    level: float
    trend: Trend

    @property
    def reached(self) -> bool:
        return self.expected <= self.trend.at


def _clean(times: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Finite (time, value) pairs, the newest ``MAX_POINTS`` of them, as float arrays."""
    if len(times) != len(values):
        raise ValueError(f"{len(times)} times but {len(values)} values")
    t = np.asarray(times, dtype=float)[-MAX_POINTS:]
    v = np.asarray(values, dtype=float)[-MAX_POINTS:]
    keep = np.isfinite(t) & np.isfinite(v)
    return t[keep], v[keep]


def _z(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"the interval's level is a fraction between 0 and 1, not {level!r}")
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def fit_trend(times: Sequence[float], values: Sequence[float], level: float = 0.8) -> Trend | None:
    """The Theil–Sen line through the points with its slope interval and noise band at ``level``; None with
    fewer than ``MIN_POINTS`` finite points or when they all share one time (no slope to speak of)."""
    z = _z(level)
    t, v = _clean(times, values)
    if len(t) < MIN_POINTS:
        return None
    at = float(t.max())
    x = t - at  # seconds before the newest point: keeps epoch-sized numbers out of the arithmetic
    if float(x.min()) == 0.0:
        return None
    fit = theilslopes(v, x, alpha=level)
    slope = float(fit.slope)
    now = float(np.median(v - slope * x))  # the line's value at the newest time, as robust as the slope
    residuals = v - (now + slope * x)
    mad = float(np.median(np.abs(residuals - np.median(residuals))))
    return Trend(at, now, slope, float(fit.low_slope), float(fit.high_slope), z * MAD_TO_SIGMA * mad, level, len(t))


def project(times: Sequence[float], values: Sequence[float], horizon_s: float, step_s: float,
            level: float = 0.8) -> Projection | None:  # fmt: skip
    """The forecast from the newest point to ``horizon_s`` after it, every ``step_s``, with an interval at
    ``level``; None when there are too few points to fit (see ``fit_trend``)."""
    if not (horizon_s > 0 and step_s > 0 and math.isfinite(horizon_s)) or horizon_s / step_s > 10_000:
        raise ValueError("horizon_s and step_s must be positive, with at most 10,000 steps between them")
    trend = fit_trend(times, values, level)
    if trend is None:
        return None
    steps = [trend.at + k * step_s for k in range(int(horizon_s // step_s) + 1)]
    if steps[-1] < trend.at + horizon_s:
        steps.append(trend.at + horizon_s)
    mean, low, high = zip(*(trend.value(s) for s in steps), strict=True)
    return Projection(tuple(steps), mean, low, high, level)


def crossing(times: Sequence[float], values: Sequence[float], threshold: float, op: str = ">",
             horizon_s: float | None = None, level: float = 0.8) -> Crossing | None:  # fmt: skip
    """When the value will reach ``threshold`` from the side ``op`` names (``>``/``>=``: rising to it,
    ``<``/``<=``: falling to it), with an interval at ``level``.

    None when the points are too few to fit, when the trend does not head towards the threshold, or when the
    expected time lies more than ``horizon_s`` after the newest point (None: no horizon)."""
    if op not in OPS:
        raise ValueError(f"op must be one of {', '.join(OPS)}, not {op!r}")
    trend = fit_trend(times, values, level)
    return None if trend is None else crossing_of(trend, threshold, op, horizon_s)


def crossing_of(trend: Trend, threshold: float, op: str = ">", horizon_s: float | None = None) -> Crossing | None:
    """``crossing`` for a trend already fitted."""
    sign = 1.0 if op.startswith(">") else -1.0
    gap = sign * (threshold - trend.now)  # how far the line still has to go, towards the threshold
    toward, fastest, slowest = (sign * trend.slope, max(sign * trend.slope_low, sign * trend.slope_high),
                                min(sign * trend.slope_low, sign * trend.slope_high))  # fmt: skip
    fastest = max(fastest, toward)
    if gap <= 0:
        return Crossing(threshold, trend.at, trend.at, trend.at, trend.level, trend)
    if toward <= 0:
        return None
    expected = trend.at + gap / toward
    if horizon_s is not None and expected - trend.at > horizon_s:
        return None
    earliest = trend.at + max(0.0, gap - trend.spread) / fastest
    latest = trend.at + (gap + trend.spread) / slowest if slowest > 0 else None
    return Crossing(threshold, expected, earliest, latest, trend.level, trend)
