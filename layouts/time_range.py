"""The time ranges the history-like pages offer, and the picker that chooses one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from dash import dcc, html

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LABELS = {"1h": "1 h", "6h": "6 h", "24h": "24 h", "7d": "7 d", "30d": "30 d"}


def window(choice: str | None, now: datetime, default: str = "24h") -> tuple[datetime, datetime]:
    """``(since, until)`` of the range named ``choice`` (``default`` when unknown) ending at ``now``."""
    span = RANGES.get(choice or default, RANGES[default])
    return now - span, now


def step_label(step: timedelta) -> str:
    """How a chart's bucket width reads in its title: "hour", "5 min", "6 h"."""
    minutes = int(step.total_seconds() // 60)
    if minutes == 60:
        return "hour"
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


def range_picker(component_id: str, choices: Sequence[str] = tuple(RANGES), value: str = "24h") -> html.Div:
    """Inline radio buttons, one per range, named "Time range" for screen readers (assets/ioc_a11y.js)."""
    return html.Div([
        html.Span("Time range", id=f"{component_id}-label", className="visually-hidden"),
        dcc.RadioItems(id=component_id, options=[{"label": LABELS[c], "value": c} for c in choices], value=value,
                       inline=True, className="range-picker"),
    ])  # fmt: skip
