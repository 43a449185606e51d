"""Pure builders of the live views' parts (KPI tiles, alerts, sites, status counts), from snapshot data.

Each takes plain data from the snapshot and returns Dash components; none fetches anything. The overview page
and the wall display both use them, the wall at a larger size through CSS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import html

from layouts import ids


@dataclass(frozen=True)
class KpiSpec:
    """How a KPI reads: label, unit, decimals, which direction is better, and how to compare with yesterday."""

    label: str
    unit: str = ""
    decimals: int = 0
    better: str | None = None  # "up", "down", or None when neither direction is good news
    delta: str = "rel"  # "rel": change in %, "abs": change in the KPI's own unit (points for shares)


KPIS: dict[str, KpiSpec] = {
    "devices_online_pct": KpiSpec("Devices online", "%", 1, "up", "abs"),
    "readings_per_min": KpiSpec("Readings / min", "", 0),
    "complaints_today": KpiSpec("Complaints today", "", 0),
    "complaints_open": KpiSpec("Open complaints", "", 0, "down"),
    "sla_share_pct": KpiSpec("Closed within SLA", "%", 1, "up", "abs"),
    "median_close_h": KpiSpec("Median time to close", "h", 1, "down"),
    "satisfaction_pct": KpiSpec("Satisfaction", "%", 1, "up", "abs"),
    "pue_now": KpiSpec("Data-centre PUE now", "", 2, "down", "abs"),
    "pue_24h": KpiSpec("PUE, last 24 h", "", 2, "down", "abs"),
    "energy_saved_pct": KpiSpec("Energy saved vs PUE", "%", 1, "up", "abs"),  # + the city's baseline PUE
    "alerts_open": KpiSpec("Open alerts", "", 0, "down"),
}
SEVERITY_ORDER = ("critical", "warning", "info")


def number(value: float | None, decimals: int = 0) -> str:
    """``12,345`` / ``1.27``; an en dash when there is no value."""
    return "–" if value is None else f"{value:,.{decimals}f}"


def trend(spec: KpiSpec, value: float | None, yesterday: float | None) -> tuple[str, str]:
    """(text, css class) comparing ``value`` with the same time yesterday."""
    if value is None:
        return "no figure yet", "trend-flat"
    if yesterday is None:
        return "nothing recorded yesterday to compare", "trend-flat"
    change = value - yesterday
    unit = " pt" if spec.unit == "%" else f" {spec.unit}" if spec.unit else ""
    if spec.delta == "abs":
        text = f"{abs(change):,.{spec.decimals}f}{unit}"
    elif yesterday:
        text = f"{abs(change) / abs(yesterday) * 100:,.0f} %"
    else:
        text = "from 0"
    if round(change, spec.decimals) == 0:
        return "= same time yesterday", "trend-flat"
    rising = change > 0
    good = None if spec.better is None else rising == (spec.better == "up")
    arrow = "▲" if rising else "▼"
    css = "trend-flat" if good is None else "trend-good" if good else "trend-bad"
    return f"{arrow} {text} vs yesterday", css


def kpi_body(key: str, kpi: Mapping | None) -> list:
    """Label, value with unit, trend line: the children of one KPI tile."""
    spec = KPIS[key]
    if key == "alerts_open":
        return alerts_kpi_body(spec, kpi or {})
    value = None if kpi is None else kpi.get("value")
    text, css = trend(spec, value, None if kpi is None else kpi.get("yesterday"))
    unit = html.Span(spec.unit, className="kpi-unit") if spec.unit and value is not None else None
    label = f"{spec.label} {kpi['baseline']:g}" if kpi and "baseline" in kpi else spec.label
    return [html.Div(label, className="kpi-label"),
            html.Div([number(value, spec.decimals), unit], className="kpi-value"),
            html.Div(text, className=f"kpi-trend {css}")]  # fmt: skip


def alerts_kpi_body(spec: KpiSpec, kpi: Mapping) -> list:
    """Open alerts per severity; says plainly when alerting is not running, rather than show a reassuring 0."""
    counts = kpi.get("by_severity", {})
    value = sum(counts.values()) if kpi.get("available") else None
    line = " · ".join(f"{s} {counts.get(s, 0)}" for s in SEVERITY_ORDER)
    note = line if kpi.get("available") else "alerting not running yet"
    return [html.Div(spec.label, className="kpi-label"), html.Div(number(value), className="kpi-value"),
            html.Div(note, className="kpi-trend trend-flat")]  # fmt: skip


def kpi_tile(key: str, view: str) -> html.Div:
    """An empty KPI tile, filled by the live callback."""
    return html.Div(kpi_body(key, None), id={"type": ids.LIVE_KPI, "key": key, "view": view}, className="kpi")


def kpi_grid(keys: Sequence[str], view: str) -> html.Div:
    """Tiles for ``keys`` in a responsive grid."""
    return html.Div([kpi_tile(key, view) for key in keys], className="kpi-grid")


def clock_time(ms: int, timezone: str) -> str:
    """``HH:MM:SS`` in the city's time zone."""
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(timezone)).strftime("%H:%M:%S")


def alerts_list(alerts: Mapping | None, timezone: str, limit: int = 8) -> list:
    """The newest alerts, or an honest line when alerting is not running or nothing fires."""
    if not alerts or not alerts.get("available"):
        return [html.P("Alerting is not running yet: no alert rules are evaluated, so none can fire.",
                       className="muted alerts-empty")]  # fmt: skip
    items = alerts.get("items", [])[:limit]
    if not items:
        return [html.P("No open alerts.", className="muted alerts-empty")]
    return [html.Ul([html.Li([html.Span(a["severity"], className=f"sev sev-{a['severity']}"),
                              html.Span(clock_time(a["at_ms"], timezone), className="muted"), a["title"]])
                     for a in items], className="alerts-list")]  # fmt: skip


def status_counts(counts: Mapping[str, int] | None, colours: Mapping[str, str]) -> list:
    """``normal 1,812 · warning 40 · …`` with a coloured dot per status."""
    counts = counts or {}
    items = [html.Span([html.Span(className="legend-dot", style={"background": colours[s]}),
                        f"{s} {counts.get(s, 0):,}"], className="legend-item") for s in colours]  # fmt: skip
    if counts.get("not_shown"):
        items.append(html.Span(f"+ {counts['not_shown']:,} more devices not on the map (over IOC_LIVE_MAX_SENSORS)",
                               className="legend-item legend-not-shown"))  # fmt: skip
    return items


def sites_table(sites: Sequence[Mapping] | None) -> html.Table | html.P:
    """Per data-centre site: PUE now, IT and facility load, inlet temperature."""
    if not sites:
        return html.P("No data-centre samples yet.", className="muted")
    head = ["site", "PUE now", "IT kW", "facility kW", "inlet °C"]
    rows = [[s["site"], number(s["pue"], 2), number(s["it_kw"]), number(s["facility_kw"]),
             number(s.get("inlet_temp_c"), 1)] for s in sites]  # fmt: skip
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                      className="data-table sites-table")  # fmt: skip


def latest_line(reading: Mapping | None, timezone: str) -> str:
    """``Newest reading: aq-0042 pm25 37.5 ug/m3 at 10:21:03``."""
    if not reading:
        return "No readings yet."
    value = f"{reading['value']:g} {reading['unit']}".strip()
    return f"Newest reading: {reading['id']} {reading['metric']} {value} at {clock_time(reading['ts_ms'], timezone)}"
