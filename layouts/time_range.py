"""The time ranges the history-like pages offer, and the picker that chooses one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from dash import dcc, html

from i18n.current import N_, _

RANGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
LABELS = {"1h": N_("1 h"), "6h": N_("6 h"), "24h": N_("24 h"), "7d": N_("7 d"), "30d": N_("30 d")}


def window(choice: str | None, now: datetime, default: str = "24h") -> tuple[datetime, datetime]:
    """``(since, until)`` of the range named ``choice`` (``default`` when unknown) ending at ``now``."""
    span = RANGES.get(choice or default, RANGES[default])
    return now - span, now


def step_label(step: timedelta) -> str:
    """How a chart's bucket width reads in its title: "hour", "5 min", "6 h" (in the request's language)."""
    minutes = int(step.total_seconds() // 60)
    if minutes == 60:
        return _("hour")
    return _("{n} min").format(n=minutes) if minutes < 60 else _("{n} h").format(n=minutes // 60)


def range_picker(component_id: str, choices: Sequence[str] = tuple(RANGES), value: str = "24h") -> html.Div:
    """Inline radio buttons, one per range, named "Time range" for screen readers (assets/ioc_a11y.js)."""
    return html.Div([
        html.Span(_("Time range"), id=f"{component_id}-label", className="visually-hidden"),
        dcc.RadioItems(id=component_id, options=[{"label": _(LABELS[c]), "value": c} for c in choices], value=value,
                       inline=True, className="range-picker"),
    ])  # fmt: skip
