"""Time axes for charts whose data may have begun a few minutes ago (pure helpers for the figure builders).

Left to itself, plotly zooms a one-bucket series to a few milliseconds around it (ticks 19:59:59.999 …
20:00:00.0005). A chart here always spans the range the user chose, draws markers when there are only a few
points, and says in its title how long the data has been collected when it began inside the range.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import plotly.graph_objects as go

from i18n import current
from i18n.current import _

FEW_POINTS = 48  # up to this many points per line, each is marked (a lone bucket is visible at all)


# Date axes in numbers only (plotly.js writes month names in English whatever the page's language).
DATE_TICKS = [
    {"dtickrange": [None, 60_000], "value": "%H:%M:%S"},
    {"dtickrange": [60_000, 86_400_000], "value": "%H:%M"},
    {"dtickrange": [86_400_000, None], "value": "%m-%d"},
]


def duration_text(span: timedelta) -> str:
    """``"less than a minute"``, ``"1 minute"``, ``"45 minutes"``, ``"3 hours"``, ``"2 days"``: rounded down, in
    the request's language."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return _("less than a minute")
    if minutes < 120:
        return current.count_of(minutes, "minute")
    hours = minutes // 60
    if hours < 48:
        return current.count_of(hours, "hour")
    return current.count_of(hours // 24, "day")


def collecting_note(first: datetime | None, since: datetime, until: datetime) -> str | None:
    """``"collecting: 3 minutes so far"`` when the data began after the range did; None when it covers it
    (or when there is none at all, which the chart says in its own words)."""
    if first is None or first <= since:
        return None
    return _("collecting: {duration} so far").format(duration=duration_text(until - max(first, since)))


def line_mode(points: int) -> str:
    """Lines, with a marker on every point when there are few of them."""
    return "lines+markers" if points <= FEW_POINTS else "lines"


def titled(title: str, note: str | None) -> str:
    """The chart's title, with the collecting note after it."""
    return f"{title} · {note}" if note else title


def span_axis(fig: go.Figure, since: datetime, until: datetime, zone: tzinfo | None = None) -> None:
    """Make the x axis show exactly ``[since, until]``.

    plotly.js ignores UTC offsets in date strings, so the ends must be in the same time zone as the data's
    buckets (``zone``; the dashboard reads them in the city's zone)."""
    if zone is not None:
        since, until = since.astimezone(zone), until.astimezone(zone)
    fig.update_xaxes(type="date", range=[since.replace(tzinfo=None), until.replace(tzinfo=None)])
    date_ticks(fig)


def date_ticks(fig: go.Figure) -> None:
    """Write the x axis's dates and times in numbers (``DATE_TICKS``), the same in every language."""
    fig.update_xaxes(tickformatstops=DATE_TICKS, hoverformat="%Y-%m-%d %H:%M:%S")


def zone_of(buckets: list[datetime]) -> tzinfo | None:
    """The time zone of the first aware bucket, if any."""
    return next((b.tzinfo for b in buckets if isinstance(b, datetime) and b.tzinfo is not None), None)
