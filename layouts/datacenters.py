"""Data centres (/datacenters): energy-weighted PUE per site against the target, power, inlet temperatures.

Every PUE here is ``sum(facility_kw) / sum(it_kw)`` over its bucket or window (docs/EVENTS.md), computed by
the query from the rollups' sums; the builders only draw it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import plotly.graph_objects as go
from dash import dcc, html

from i18n import current
from i18n.current import _
from layouts import chart_time, ids
from layouts.figure_theme import FIGURE_THEME
from layouts.time_range import range_picker

REFRESH_MS = 60_000
MARGIN = {"l": 50, "r": 10, "t": 40, "b": 30}


def _by_site(rows: Sequence[Mapping]) -> dict[str, list[Mapping]]:
    sites: dict[str, list[Mapping]] = {}
    for row in rows:
        sites.setdefault(row["site"], []).append(row)
    return dict(sorted(sites.items()))


@dataclass(frozen=True)
class Span:
    """The range a chart shows, and when its data began (None: no data at all)."""

    since: datetime
    until: datetime
    first: datetime | None = None


def _style(fig: go.Figure, title: str, y_title: str, rows: Sequence[Mapping], span: Span | None) -> go.Figure:
    if span is not None and rows:
        title = chart_time.titled(title, chart_time.collecting_note(span.first, span.since, span.until))
    if not rows:
        title = _("{title}: no data in this range").format(title=title)
    fig.update_layout(title=title, margin=MARGIN, height=340, **FIGURE_THEME, yaxis_title=y_title,
                      legend={"orientation": "h", "y": -0.15})  # fmt: skip
    if span is not None:
        chart_time.span_axis(fig, span.since, span.until, chart_time.zone_of([r["bucket"] for r in rows]))
    return fig


def pue_figure(rows: Sequence[Mapping], target: float, span: Span | None = None) -> go.Figure:
    """A line of energy-weighted PUE per site, and the target (the city pack's ``kpi.pue_target``) dashed."""
    fig = go.Figure()
    for site, points in _by_site(rows).items():
        fig.add_scatter(x=[p["bucket"] for p in points], y=[p["pue"] for p in points], name=site,
                        mode=chart_time.line_mode(len(points)))  # fmt: skip
    label = _("target {target}").format(target=current.number(target, 1))
    fig.add_hline(y=target, line_dash="dash", line_color="#d7263d", annotation_text=label,
                  annotation_position="top left")  # fmt: skip
    return _style(fig, _("PUE per site (energy-weighted per bucket)"), "PUE", rows, span)


def power_figure(rows: Sequence[Mapping], span: Span | None = None) -> go.Figure:
    """Mean facility power (solid) and IT power (dotted) per site."""
    fig = go.Figure()
    for site, points in _by_site(rows).items():
        x, mode = [p["bucket"] for p in points], chart_time.line_mode(len(points))
        fig.add_scatter(x=x, y=[p["facility_kw"] for p in points], name=_("{site} facility").format(site=site),
                        mode=mode, legendgroup=site)  # fmt: skip
        fig.add_scatter(x=x, y=[p["it_kw"] for p in points], name=_("{site} IT").format(site=site), mode=mode,
                        legendgroup=site, line={"dash": "dot"})  # fmt: skip
    return _style(fig, _("Facility vs IT power"), current.unit_label("kW"), rows, span)


def inlet_figure(rows: Sequence[Mapping], span: Span | None = None) -> go.Figure:
    """Mean server inlet temperature per site, with each bucket's highest as a dotted line."""
    fig = go.Figure()
    for site, points in _by_site(rows).items():
        x, mode = [p["bucket"] for p in points], chart_time.line_mode(len(points))
        fig.add_scatter(x=x, y=[p["inlet_temp_c"] for p in points], name=_("{site} mean").format(site=site),
                        mode=mode, legendgroup=site)  # fmt: skip
        fig.add_scatter(x=x, y=[p["inlet_temp_max"] for p in points], name=_("{site} max").format(site=site),
                        mode=mode, legendgroup=site, line={"dash": "dot"})  # fmt: skip
    return _style(fig, _("Server inlet temperature"), current.unit_label("°C"), rows, span)


def pue_summary(pue_by_site: Mapping[str, float | None], target: float) -> html.Table:
    """Each site's PUE over the whole range, marked when above target."""
    def cell(pue: float | None) -> html.Td:
        if pue is None:
            return html.Td("–")
        return html.Td(current.number(pue, 3), className="over-target" if pue > target else "on-target")

    return html.Table([
        html.Thead(html.Tr([html.Th(_("site")), html.Th(_("PUE over the range"))])),
        html.Tbody([html.Tr([html.Td(site), cell(pue)]) for site, pue in sorted(pue_by_site.items())]),
    ], className="data-table")  # fmt: skip


def datacenters_layout() -> html.Div:
    """Range picker, PUE summary and three charts; filled by ``callbacks.datacenters``."""
    graph = {"config": {"displaylogo": False}}
    return html.Div([
        html.H1(_("Data centres")),
        range_picker(ids.DATACENTERS_RANGE, value="24h"),
        html.Div(id=ids.DATACENTERS_SUMMARY),
        dcc.Graph(id=ids.DATACENTERS_PUE, **graph),
        html.Div([dcc.Graph(id=ids.DATACENTERS_POWER, **graph), dcc.Graph(id=ids.DATACENTERS_INLET, **graph)],
                 className="two-up"),
        dcc.Interval(id=ids.DATACENTERS_TICK, interval=REFRESH_MS),
    ])  # fmt: skip
