"""History (/history): any metric by district (from the rollups) or by device (raw readings), with CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import plotly.graph_objects as go
from dash import dcc, html

from forecast.charts import ChartForecast
from forecast.trend import Projection
from i18n import current
from i18n.current import N_, _
from i18n.terms import term
from layouts import chart_time, ids
from layouts.figure_theme import FIGURE_THEME
from layouts.forecast_chart import add_forecast
from layouts.time_range import range_picker

MODES = (("district", N_("By district")), ("device", N_("By device")))
CSV_COLUMNS = ("bucket", "series", "readings", "mean", "low", "high")


def metric_options(metrics: Sequence[Mapping]) -> list[dict]:
    """Dropdown options, one per metric: "air quality · PM2.5 (ug/m3)", in the request's language."""
    seen: dict[str, str] = {}
    for m in metrics:
        unit = f" ({m['unit']})" if m["unit"] else ""
        seen.setdefault(m["metric"], f"{term('kind', m['kind'])} · {term('metric', m['metric'])}{unit}")
    return [{"label": label, "value": metric} for metric, label in seen.items()]


def labelled(rows: Sequence[Mapping], series: str | None = None) -> list[dict]:
    """Rows with a ``series`` name: the row's district, or ``series`` (a device id) when given."""
    return [dict(r, series=series or r["district"]) for r in rows]


def series_figure(
    rows: Sequence[Mapping],
    metric: str | None,
    since: datetime | None = None,
    until: datetime | None = None,
    first: datetime | None = None,
    forecasts: Mapping[str, tuple[Projection, ChartForecast]] | None = None,
) -> go.Figure:
    """The mean per bucket, one line per series, with the bucket's low–high as hover detail, each followed by its
    forecast when ``forecasts`` (series → projection and its settings) has one.

    With ``since``/``until`` the time axis spans the chosen range (and the forecasts after it); ``first`` (when
    the data began) adds a "collecting: … so far" note when that is inside the range."""
    fig = go.Figure()
    forecasts = forecasts or {}
    for name in sorted({r["series"] for r in rows}):
        points = [r for r in rows if r["series"] == name]
        fig.add_scatter(x=[p["bucket"] for p in points], y=[p["mean"] for p in points], name=current.district(name),
                        mode=chart_time.line_mode(len(points)),
                        customdata=[[p["low"], p["high"], p["readings"]] for p in points],
                        hovertemplate=_("%{y:.2f} (low %{customdata[0]:.2f}, high %{customdata[1]:.2f}, "
                                        "%{customdata[2]} readings)") + "<extra>%{fullData.name}</extra>")  # fmt: skip
        if name in forecasts:
            add_forecast(fig, *forecasts[name])
    if until is not None and forecasts:
        ahead = max(datetime.fromtimestamp(p.times[-1], UTC) for p, _settings in forecasts.values())
        until = max(until, ahead)
    named = term("metric", metric) if metric else _("Choose a metric")
    title = (_("{metric}: mean per bucket") if rows else _("{metric}: no data in this range")).format(metric=named)
    if rows and since is not None and until is not None:
        title = chart_time.titled(title, chart_time.collecting_note(first, since, until))
    fig.update_layout(title=title, showlegend=True, margin={"l": 50, "r": 10, "t": 40, "b": 30}, height=460,
                      legend={"orientation": "h", "y": -0.15}, **FIGURE_THEME)  # fmt: skip
    if since is not None and until is not None:
        chart_time.span_axis(fig, since, until, chart_time.zone_of([r["bucket"] for r in rows]))
    return fig


def series_csv(rows: Sequence[Mapping]) -> str:
    """The rows as CSV, ISO 8601 bucket times with their UTC offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        bucket = r["bucket"].isoformat() if isinstance(r["bucket"], datetime) else r["bucket"]
        writer.writerow([bucket, r["series"], r["readings"], r["mean"], r["low"], r["high"]])
    return out.getvalue()


def export_filename(metric: str, target: str, choice: str, now: datetime) -> str:
    """``pm25_futian-nanshan_24h_20261124T0830.csv``: what, where, how long, when."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in target)[:80]
    return f"{metric}_{safe}_{choice}_{now.strftime('%Y%m%dT%H%M')}.csv"


def history_layout() -> html.Div:
    """Mode, metric, districts or device, range; the chart; the CSV export. Filled by ``callbacks.history``."""
    return html.Div([
        html.H1(_("History")),
        html.Div([
            html.Span(_("Show history"), id=f"{ids.HISTORY_MODE}-label", className="visually-hidden"),
            dcc.RadioItems(id=ids.HISTORY_MODE, options=[{"label": _(lbl), "value": v} for v, lbl in MODES],
                           value="district", inline=True),
            dcc.Dropdown(id=ids.HISTORY_METRIC, placeholder=_("Metric"), clearable=False, className="filter"),
            dcc.Dropdown(id=ids.HISTORY_DISTRICTS, multi=True, placeholder=_("All districts"), className="filter"),
            dcc.Input(id=ids.HISTORY_DEVICE, type="text", placeholder=_("Device id, e.g. sz-aq-futian-00001"),
                      debounce=True, className="filter"),
            range_picker(ids.HISTORY_RANGE, value="24h"),
            html.Button(_("Download CSV"), id=ids.HISTORY_EXPORT, className="button"),
            dcc.Download(id=ids.HISTORY_DOWNLOAD),
        ], className="filters"),
        dcc.Graph(id=ids.HISTORY_CHART, config={"displaylogo": False}),
    ])  # fmt: skip
