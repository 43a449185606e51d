"""The forecasting core: trend, projection with its interval, and the crossing of a level (pure)."""

from __future__ import annotations

import math
import random

import pytest

from forecast import crossing, fit_trend, project
from forecast.trend import MAX_POINTS


def rising(n: int = 30, start: float = 1.0, per_s: float = 0.001, noise: float = 0.02, seed: int = 1,
           t0: float = 1.8e9) -> tuple[list[float], list[float]]:  # fmt: skip
    rng = random.Random(seed)
    times = [t0 + 60.0 * k for k in range(n)]
    return times, [start + per_s * (t - t0) + rng.gauss(0, noise) for t in times]


def test_a_noisy_line_is_recovered_with_an_interval_around_it() -> None:
    times, values = rising()
    trend = fit_trend(times, values, level=0.8)
    assert trend is not None
    assert trend.at == times[-1]
    assert trend.slope_low < 0.001 < trend.slope_high
    assert trend.slope == pytest.approx(0.001, rel=0.1)
    assert trend.now == pytest.approx(1.0 + 0.001 * 29 * 60, abs=0.05)
    assert trend.spread > 0


def test_wild_points_do_not_bend_the_trend() -> None:
    times, values = rising(noise=0.0)
    spoiled = [v + (50.0 if k % 4 == 0 else 0.0) for k, v in enumerate(values)]  # a quarter of them absurd
    trend = fit_trend(times, spoiled)
    assert trend.slope == pytest.approx(0.001, rel=0.05)


def test_projection_starts_at_the_newest_point_and_fans_out() -> None:
    times, values = rising()
    p = project(times, values, horizon_s=1800, step_s=300, level=0.8)
    assert p.times[0] == times[-1] and p.times[-1] == times[-1] + 1800
    assert len(p.times) == 7
    assert all(lo <= m <= hi for lo, m, hi in zip(p.low, p.mean, p.high, strict=True))
    widths = [hi - lo for lo, hi in zip(p.low, p.high, strict=True)]
    assert widths == sorted(widths) and widths[-1] > widths[0]
    assert p.mean[-1] == pytest.approx(values[-1] + 1.8, abs=0.2)


def test_a_wider_level_gives_a_wider_interval() -> None:
    times, values = rising()
    narrow, wide = project(times, values, 1800, 600, 0.5), project(times, values, 1800, 600, 0.95)
    assert wide.high[-1] - wide.low[-1] > narrow.high[-1] - narrow.low[-1]


def test_the_crossing_time_sits_inside_its_interval() -> None:
    times, values = rising(per_s=0.001, start=1.0)  # reaches 4.5 m about 3500 s after the start
    c = crossing(times, values, 4.5, ">", horizon_s=3600, level=0.8)
    assert c is not None and not c.reached
    assert c.earliest < c.expected < c.latest
    assert c.expected == pytest.approx(times[0] + 3500, abs=200)


def test_falling_to_a_level_uses_the_other_side() -> None:
    times, values = rising(per_s=-0.01, start=60.0, noise=0.5)  # a road slowing down
    c = crossing(times, values, 20.0, "<")
    assert c is not None
    assert c.expected == pytest.approx(times[0] + 4000, abs=200)
    assert crossing(times, values, 80.0, ">") is None  # moving away from it


def test_no_crossing_when_flat_or_beyond_the_horizon() -> None:
    times, values = rising(per_s=0.0)
    flat = crossing(times, values, 4.5, ">")
    assert flat is None or flat.expected - times[-1] > 1e4  # noise may tilt it, never towards a near crossing
    times, values = rising(per_s=0.0001)
    assert crossing(times, values, 4.5, ">", horizon_s=1800) is None
    assert crossing(times, values, 4.5, ">") is not None


def test_already_past_the_level_is_reached_now() -> None:
    times, values = rising(start=5.0)
    c = crossing(times, values, 4.5, ">")
    assert c.reached and c.expected == c.earliest == times[-1]


def test_latest_is_open_when_the_slowest_trend_never_gets_there() -> None:
    times, values = rising(n=6, per_s=0.0003, noise=0.2, seed=3)
    c = crossing(times, values, 2.0, ">")
    if c is not None and c.trend.slope_low <= 0:
        assert c.latest is None


def test_too_few_points_or_one_instant_fit_nothing() -> None:
    assert fit_trend([1.0, 2.0], [1.0, 2.0]) is None
    assert fit_trend([5.0, 5.0, 5.0], [1.0, 2.0, 3.0]) is None
    assert project([1.0, 2.0], [1.0, 2.0], 60, 10) is None
    assert crossing([1.0], [1.0], 2.0) is None


def test_non_finite_points_are_left_out_and_bad_arguments_refused() -> None:
    times, values = rising()
    values[3], values[7] = math.nan, math.inf
    assert fit_trend(times, values).points == len(times) - 2
    with pytest.raises(ValueError):
        fit_trend(times, values[:-1])
    with pytest.raises(ValueError):
        fit_trend(times, values, level=1.0)
    with pytest.raises(ValueError):
        project(times, values, horizon_s=1e9, step_s=1)
    with pytest.raises(ValueError):
        crossing(times, values, 1.0, "==")


def test_only_the_newest_points_are_used() -> None:
    times, values = rising(n=MAX_POINTS + 100, noise=0.0)
    assert fit_trend(times, values).points == MAX_POINTS
