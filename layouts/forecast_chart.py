"""A forecast drawn after a series on a chart (pure: a projection in, traces out): the sensor panel and History."""

from __future__ import annotations

from datetime import UTC, datetime

import plotly.graph_objects as go

from forecast.charts import ChartForecast
from forecast.trend import Projection
from i18n import current
from i18n.current import _

FORECAST_COLOUR = "#79c0ff"
LEVEL_COLOUR = "#f0a202"  # the warning colour of the maps


def add_forecast(fig: go.Figure, projection: Projection, settings: ChartForecast) -> None:
    """A forecast after a series: its interval as a band, its expected line dashed, and the level its forecast rule
    warns of (when one watches the series) as a dotted line over the same span."""
    at = [datetime.fromtimestamp(t, UTC) for t in projection.times]
    band = _("forecast, {share} interval").format(share=current.percent(projection.level * 100))
    fig.add_scatter(x=[*at, *reversed(at)], y=[*projection.high, *reversed(projection.low)], fill="toself",
                    fillcolor="rgba(121, 192, 255, 0.18)", line={"width": 0}, hoverinfo="skip", name=band)
    fig.add_scatter(x=at, y=list(projection.mean), mode="lines", line={"dash": "dash", "color": FORECAST_COLOUR},
                    name=_("forecast"))  # fmt: skip
    if settings.threshold is not None:
        fig.add_scatter(x=[at[0], at[-1]], y=[settings.threshold] * 2, mode="lines", name=_("forecast rule's level"),
                        line={"dash": "dot", "color": LEVEL_COLOUR})  # fmt: skip
