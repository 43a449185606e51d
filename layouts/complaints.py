"""The quick-response platform (/complaints): volume, districts, SLA, satisfaction, and the live queue.

Builders here take rows as ``storage.dashboard_queries`` returns them and never fetch anything. SLA targets
come from the city pack (``[kpi]``; ``live.sla``, docs/CITIES.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import dash_ag_grid as dag
import plotly.graph_objects as go
from dash import dcc, html
from plotly.colors import sample_colorscale

from cities.schema import Kpi
from i18n import current, formats
from i18n.current import N_, _
from i18n.districts import district_label, names_from_features
from i18n.grid import grid_locale
from i18n.terms import term
from layouts import ids
from layouts.chart_time import date_ticks
from layouts.city_map import city_bounds
from layouts.figure_theme import FIGURE_THEME
from layouts.time_range import range_picker
from live.sla import sla_hours

REFRESH_MS = 15_000
MARGIN = {"l": 40, "r": 10, "t": 40, "b": 30}
# headerName: msgids, translated when the page is built (``columns``).
QUEUE_COLUMNS = [
    {"field": "request_id", "headerName": N_("request"), "filter": "agTextColumnFilter", "pinned": "left"},
    {"field": "opened_at", "headerName": N_("opened"), "sort": "asc", "sortIndex": 0},
    {"field": "age_h", "headerName": N_("age (h)"), "filter": "agNumberColumnFilter", "type": "numericColumn"},
    {"field": "status", "headerName": N_("status"), "filter": "agTextColumnFilter"},
    {"field": "category", "headerName": N_("category"), "filter": "agTextColumnFilter"},
    {"field": "district", "headerName": N_("district"), "filter": "agTextColumnFilter"},
    {"field": "channel", "headerName": N_("channel"), "filter": "agTextColumnFilter"},
    {"field": "sla_due", "headerName": N_("SLA due")},
    {"field": "overdue", "headerName": N_("overdue"), "filter": True},
]
DESCRIPTION_COLUMN = {"field": "description", "headerName": N_("description"), "flex": 2}


def _style(fig: go.Figure, title: str, height: int = 340) -> go.Figure:
    fig.update_layout(title=title, margin=MARGIN, height=height, **FIGURE_THEME,
                      legend={"orientation": "h", "y": -0.15})  # fmt: skip
    return fig


def volume_figure(rows: Sequence[Mapping], step_label: str) -> go.Figure:
    """New requests per bucket, stacked by category."""
    fig = go.Figure()
    for category in sorted({r["category"] for r in rows}):
        points = [r for r in rows if r["category"] == category]
        fig.add_bar(
            x=[r["bucket"] for r in points], y=[int(r["requests"]) for r in points], name=term("category", category)
        )
    fig.update_layout(barmode="stack")
    date_ticks(fig)
    return _style(fig, _("New requests per {step}, by category").format(step=step_label))


def district_choropleth(requests: Mapping[str, int], geojson: Mapping) -> go.Figure:
    """Requests per district, each district's outline filled by its count.

    Drawn as filled SVG paths on lon/lat axes rather than a plotly map trace: map traces need WebGL (absent on
    many wall-display PCs and in headless browsers) or fetch base layers from a CDN, and we need neither.
    """
    features = geojson["features"]
    names = names_from_features(features)
    counts = [requests.get(f["properties"]["id"], 0) for f in features]
    low, top = min(counts), max(counts)
    span = (top - low) or 1
    fig = go.Figure()
    for feature, count in zip(features, counts, strict=True):
        props = feature["properties"]
        lons, lats = _outline(feature["geometry"])
        fig.add_scatter(
            x=lons, y=lats, fill="toself", mode="lines", line={"color": "#334155", "width": 1},
            fillcolor=sample_colorscale("Oranges", [0.1 + 0.9 * (count - low) / span])[0], name=props["id"],
            hoveron="fills", hoverinfo="text",
            text=_("{district}: {count} requests").format(
                district=district_label(props["id"], current.language(), names), count=current.number(count)),
            showlegend=False, customdata=[count],
        )  # fmt: skip
    # An invisible point carries the colour bar, so the reader can tell what the shades mean.
    fig.add_scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                    marker={"colorscale": "Oranges", "cmin": low, "cmax": low + span, "color": [low],
                            "colorbar": {"title": _("requests")}})  # fmt: skip
    fig.update_xaxes(visible=False)
    # a degree of longitude is cos(latitude) of one of latitude (``_`` is gettext's here, hence the names)
    (south, _west), (north, _east) = city_bounds(geojson)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1 / math.cos(math.radians((south + north) / 2)))
    return _style(fig, _("New requests by district"), height=380)


def _outline(geometry: Mapping) -> tuple[list, list]:
    """Longitudes and latitudes of every ring of a (Multi)Polygon, rings separated by None."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    lons: list = []
    lats: list = []
    for polygon in polygons:
        for ring in polygon[:1]:  # outer rings only: districts have no holes worth drawing at this scale
            lons += [p[0] for p in ring] + [None]
            lats += [p[1] for p in ring] + [None]
    return lons, lats


def sla_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Per category, the share of requests closed within the category's SLA hours."""
    rows = sorted(rows, key=lambda r: r["within_sla"] / r["closed"])
    shares = [100.0 * r["within_sla"] / r["closed"] for r in rows]
    fig = go.Figure(go.Bar(
        x=shares, y=[term("category", r["category"]) for r in rows], orientation="h", marker_color="#2563eb",
        text=[_("{share} of {closed} (SLA {hours})").format(
                  share=current.percent(s), closed=current.number(r["closed"]), hours=current.unit(r["sla_hours"], "h"))
              for s, r in zip(shares, rows, strict=True)],
        textposition="auto",
    ))  # fmt: skip
    fig.update_xaxes(range=[0, 100], title=_("closed within SLA, %"))
    return _style(fig, _("Closed within SLA, by category"), height=380)


def satisfaction_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Per day: mean rating (1–5) and the share of satisfied citizens (rating ≥ 3)."""
    rated = [r for r in rows if r["ratings"]]
    fig = go.Figure()
    fig.add_scatter(x=[r["day"] for r in rated], y=[r["rating_sum"] / r["ratings"] for r in rated],
                    name=_("mean rating"), mode="lines+markers")  # fmt: skip
    fig.add_scatter(x=[r["day"] for r in rated], y=[100.0 * r["satisfied"] / r["ratings"] for r in rated],
                    name=_("satisfied, %"), mode="lines+markers", yaxis="y2")  # fmt: skip
    date_ticks(fig)
    fig.update_layout(yaxis={"range": [1, 5], "title": _("rating")},
                      yaxis2={"range": [0, 100], "overlaying": "y", "side": "right", "title": "%"})  # fmt: skip
    return _style(fig, _("Satisfaction per day (last 30 days)"))


def queue_rows(rows: Sequence[Mapping], now: datetime, zone: str, kpi: Kpi) -> list[dict]:
    """Open requests as grid rows: times as text in ``zone`` and the request's language, age in hours, SLA due
    time (the city pack's ``kpi``) and whether it passed; statuses, categories, districts and channels in words of
    that language.

    The description is in a row only when the query read it (``with_text``: operators and admins).
    """
    out = []
    for r in rows:
        due = r["opened_at"] + timedelta(hours=sla_hours(r["category"], kpi))
        row = {
            "request_id": r["request_id"], "status": term("complaint_status", r["status"]),
            "category": term("category", r["category"]), "district": current.district(r["district"]),
            "channel": term("channel", r["channel"]),
            "opened_at": _sortable(r["opened_at"], zone), "sla_due": _sortable(due, zone),
            "age_h": round((now - r["opened_at"]).total_seconds() / 3600, 1), "overdue": now > due,
        }  # fmt: skip
        if "description" in r:
            row["description"] = r["description"] or ""
        out.append(row)
    return out


def _sortable(moment: datetime, zone: str) -> str:
    # The grid sorts this column as text: digits, year first, in every language.
    return formats.format_in(moment, "yyyy-MM-dd HH:mm", current.language(), zone)


def columns(with_text: bool) -> list[dict]:
    """The queue grid's columns, headers in the request's language."""
    chosen = [*QUEUE_COLUMNS, DESCRIPTION_COLUMN] if with_text else QUEUE_COLUMNS
    return [{**column, "headerName": _(column["headerName"])} for column in chosen]


def complaints_layout(with_text: bool = False) -> html.Div:
    """Range picker, four figures and the queue grid (with citizens' descriptions when ``with_text``)."""
    text_note = [] if with_text else [html.P(_("Citizens' descriptions are shown to operators and admins only."),
                                             className="muted")]  # fmt: skip
    graph = {"config": {"displaylogo": False}}
    return html.Div([
        html.H1(_("Complaints · quick response")),
        range_picker(ids.COMPLAINTS_RANGE, choices=("24h", "7d"), value="24h"),
        html.Div([dcc.Graph(id=ids.COMPLAINTS_VOLUME, **graph), dcc.Graph(id=ids.COMPLAINTS_DISTRICTS, **graph)],
                 className="two-up"),
        html.Div([dcc.Graph(id=ids.COMPLAINTS_SLA, **graph), dcc.Graph(id=ids.COMPLAINTS_SATISFACTION, **graph)],
                 className="two-up"),
        html.H2(_("Open requests")),
        html.P(id=ids.COMPLAINTS_QUEUE_COUNT, className="muted"),
        *text_note,
        dag.AgGrid(
            id=ids.COMPLAINTS_QUEUE, columnDefs=columns(with_text), rowData=[],
            defaultColDef={"sortable": True, "filter": True, "resizable": True, "flex": 1, "minWidth": 110},
            getRowId="params.data.request_id", dashGridOptions={"pagination": True, "paginationPageSize": 50,
                                                                "animateRows": False,
                                                                "localeText": grid_locale()},
            rowClassRules={"queue-overdue": "params.data.overdue"}, style={"height": "560px"},
        ),
        dcc.Interval(id=ids.COMPLAINTS_TICK, interval=REFRESH_MS),
    ])  # fmt: skip
