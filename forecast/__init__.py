"""Forecasts of a subject's recent values (pure: numbers in, numbers out; no I/O, no clock).

``project`` draws where a value is heading with an interval (the charts), ``crossing`` says when it will reach a
level and with what interval of that time (the forecast alert rules, ``alerts/forecast_judge.py``). Both fit a
robust straight-line trend (Theil–Sen, ``forecast.trend``), chosen over exponential smoothing by measured accuracy
and cost on the simulated city (docs/BENCHMARKS.md, "Forecasts").
"""

from forecast.trend import Crossing, Projection, Trend, crossing, crossing_of, fit_trend, project

__all__ = ["Crossing", "Projection", "Trend", "crossing", "crossing_of", "fit_trend", "project"]
