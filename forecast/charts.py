"""The forecast a chart draws after a series: which rule's settings it follows, and the projection (pure).

A sensor's chart (the map's side panel) and History draw the trend the forecast rules would see: when a
`type = "forecast"` rule watches the series' kind and metric, its `window`, `step`, `horizon`, `confidence` and level
(drawn as a line, "the level it warns of"); otherwise ``DEFAULT``, the rules' own defaults. Points are averaged per
step first, as the rule's judge does, so the chart shows what would or would not raise a predicted alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from forecast.trend import Projection, project


class ChartForecast(NamedTuple):
    """How far back to fit (``window_s``), how far ahead to draw (``horizon_s``), the step, the interval's level,
    and the level a rule warns of (None: no rule watches this series)."""

    window_s: float
    horizon_s: float
    step_s: float
    confidence: float
    threshold: float | None = None
    rule_id: str | None = None


DEFAULT = ChartForecast(window_s=900.0, horizon_s=1800.0, step_s=60.0, confidence=0.8)


def chart_forecast(rules: Iterable[Any], kind: str | None, metric: str, subject: str = "device") -> ChartForecast:
    """The settings of the first forecast rule on the IoT stream watching ``kind``/``metric`` per ``subject``
    (``device`` or ``district``), else ``DEFAULT``."""
    for rule in rules:
        if getattr(rule, "type", None) != "forecast" or rule.source != "iot" or rule.subject != subject:
            continue
        if rule.metric not in (None, metric) or (kind is not None and kind not in rule.match.get("kind", {kind})):
            continue
        return ChartForecast(rule.window_s, rule.horizon_s, rule.step_s, rule.confidence, rule.threshold, rule.id)
    return DEFAULT


def step_means(times: Sequence[float], values: Sequence[float], step_s: float) -> tuple[list[float], list[float]]:
    """The mean of each ``step_s`` bucket that has points, stamped at the bucket's middle."""
    buckets: dict[int, list[float]] = {}
    for t, v in zip(times, values, strict=True):
        buckets.setdefault(int(t // step_s), []).append(v)
    keys = sorted(buckets)
    return [(k + 0.5) * step_s for k in keys], [sum(buckets[k]) / len(buckets[k]) for k in keys]


def series_projection(times: Sequence[float], values: Sequence[float], settings: ChartForecast) -> Projection | None:
    """The forecast after a series (epoch seconds, ascending): its last ``window_s`` averaged per step, projected
    ``horizon_s`` ahead; None when there is too little recent history to fit."""
    if not times:
        return None
    since = max(times) - settings.window_s
    recent = [(t, v) for t, v in zip(times, values, strict=True) if t >= since]
    steps, means = step_means([t for t, _ in recent], [v for _, v in recent], settings.step_s)
    return project(steps, means, settings.horizon_s, settings.step_s, settings.confidence) if len(steps) >= 3 else None
