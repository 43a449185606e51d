"""The fields only a `type = "forecast"` rule has, read and checked (pure; the format is in docs/ALERTS.md).

    horizon      how far ahead a crossing of the level is worth a warning (default 30m, at most 1d)
    window       how much history the trend is fitted to (default 15m)
    step         readings are averaged per step; the trend is refitted when a step closes (default 1m)
    min_points   closed steps needed before the rule may fire (default 5, at least 3)
    confidence   the interval's level, also how sure the rise must be (default 0.8, from 0.5 to 0.99)
"""

from __future__ import annotations

from typing import Any

from alerts.rule_fields import RuleFields
from forecast.trend import MAX_POINTS

FIELDS = ("horizon", "step", "min_points", "confidence")
DAY_S = 86_400.0


def forecast_fields(f: RuleFields, values: dict[str, Any], problems: list[str]) -> None:
    """Read a forecast rule's own fields into ``values``; append what is wrong to ``problems``."""
    horizon = f.duration("horizon", default=1800.0, positive=True)
    step = f.duration("step", default=60.0, positive=True)
    min_points, confidence = f.number("min_points", required=False), f.number("confidence", required=False)
    window = values.get("window_s")
    if horizon is not None and horizon > DAY_S:
        problems.append("field 'horizon': at most 1d (a trend of minutes says little about next week)")
    if min_points is None:
        min_points = 5.0
    if min_points != int(min_points) or min_points < 3:
        problems.append(f"field 'min_points': a whole number of steps, at least 3, not {min_points:g}")
    if confidence is None:
        confidence = 0.8
    if not 0.5 <= confidence <= 0.99:
        problems.append(f"field 'confidence': a fraction from 0.5 to 0.99 (0.8: an 80 % interval), not {confidence:g}")
    if window is not None and step is not None:
        steps = window / step
        if steps > MAX_POINTS:
            problems.append(f"field 'window': at most {MAX_POINTS} steps of {step:g} s (memory is bounded per subject)")
        elif steps < min_points:
            problems.append(f"field 'window': {window:g} s holds {int(steps)} steps of {step:g} s, fewer than "
                            f"min_points ({min_points:g})")  # fmt: skip
    values.update(horizon_s=horizon, step_s=step, min_points=int(min_points), confidence=confidence)
