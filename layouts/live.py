"""Pure builders of the live views' parts (KPI tiles, alerts, sites, status counts), from snapshot data.

Each takes plain data from the snapshot and returns Dash components; none fetches anything. The overview page
and the wall display both use them, the wall at a larger size through CSS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dash import html

from i18n import current, formats
from i18n.current import N_, _
from i18n.terms import term
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
    "devices_online_pct": KpiSpec(N_("Devices online"), "%", 1, "up", "abs"),
    "readings_per_min": KpiSpec(N_("Readings / min"), "", 0),
    "complaints_today": KpiSpec(N_("Complaints today"), "", 0),
    "complaints_open": KpiSpec(N_("Open complaints"), "", 0, "down"),
    "sla_share_pct": KpiSpec(N_("Closed within SLA"), "%", 1, "up", "abs"),
    "median_close_h": KpiSpec(N_("Median time to close"), "h", 1, "down"),
    "satisfaction_pct": KpiSpec(N_("Satisfaction"), "%", 1, "up", "abs"),
    "pue_now": KpiSpec(N_("Data-centre PUE now"), "", 2, "down", "abs"),
    "pue_24h": KpiSpec(N_("PUE, last 24 h"), "", 2, "down", "abs"),
    "energy_saved_pct": KpiSpec(N_("Energy saved vs PUE {baseline}"), "%", 1, "up", "abs"),
    "alerts_open": KpiSpec(N_("Open alerts"), "", 0, "down"),
}
SEVERITY_ORDER = ("critical", "warning", "info")


def number(value: float | None, decimals: int = 0) -> str:
    """``12,345`` / ``1.27`` in the request's language; an en dash when there is no value."""
    return current.number(value, decimals)


def trend(spec: KpiSpec, value: float | None, yesterday: float | None) -> tuple[str, str]:
    """(text, css class) comparing ``value`` with the same time yesterday."""
    if value is None:
        return _("no figure yet"), "trend-flat"
    if yesterday is None:
        return _("nothing recorded yesterday to compare"), "trend-flat"
    change = value - yesterday
    if spec.delta == "abs" and spec.unit == "%":
        text = _("{points} pt").format(points=current.number(abs(change), spec.decimals))
    elif spec.delta == "abs":
        text = current.unit(abs(change), spec.unit, spec.decimals)
    elif yesterday:
        text = current.percent(abs(change) / abs(yesterday) * 100)
    else:
        text = _("from 0")
    if round(change, spec.decimals) == 0:
        return _("= same time yesterday"), "trend-flat"
    rising = change > 0
    good = None if spec.better is None else rising == (spec.better == "up")
    arrow = "▲" if rising else "▼"
    css = "trend-flat" if good is None else "trend-good" if good else "trend-bad"
    return _("{arrow} {change} vs yesterday").format(arrow=arrow, change=text), css


def kpi_body(key: str, kpi: Mapping | None) -> list:
    """Label, value with unit, trend line: the children of one KPI tile."""
    spec = KPIS[key]
    if key == "alerts_open":
        return alerts_kpi_body(spec, kpi or {})
    value = None if kpi is None else kpi.get("value")
    text, css = trend(spec, value, None if kpi is None else kpi.get("yesterday"))
    unit = html.Span(current.unit_label(spec.unit), className="kpi-unit") if spec.unit and value is not None else None
    # the label may name the city pack's baseline (energy saved vs PUE 1.6, vs PUE 1.58): as many places as it has
    baseline = (kpi or {}).get("baseline")
    places = 1 if baseline is None or round(baseline, 1) == baseline else 2
    label = _(spec.label).format(baseline=number(baseline, places))
    return [html.Div(label, className="kpi-label"),
            html.Div([number(value, spec.decimals), unit], className="kpi-value"),
            html.Div(text, className=f"kpi-trend {css}")]  # fmt: skip


def alerts_kpi_body(spec: KpiSpec, kpi: Mapping) -> list:
    """Open alerts per severity; says plainly when alerting is not running, rather than show a reassuring 0."""
    counts = kpi.get("by_severity", {})
    value = sum(counts.values()) if kpi.get("available") else None
    line = " · ".join(f"{term('severity', s)} {number(counts.get(s, 0))}" for s in SEVERITY_ORDER)
    note = line if kpi.get("available") else _("alerting not running yet")
    return [html.Div(_(spec.label), className="kpi-label"), html.Div(number(value), className="kpi-value"),
            html.Div(note, className="kpi-trend trend-flat")]  # fmt: skip


def kpi_tile(key: str, view: str) -> html.Div:
    """An empty KPI tile, filled by the live callback."""
    return html.Div(kpi_body(key, None), id={"type": ids.LIVE_KPI, "key": key, "view": view}, className="kpi")


def kpi_grid(keys: Sequence[str], view: str) -> html.Div:
    """Tiles for ``keys`` in a responsive grid."""
    return html.Div([kpi_tile(key, view) for key in keys], className="kpi-grid")


def clock_time(ms: int, timezone: str) -> str:
    """``HH:MM:SS`` in ``timezone``, written the request language's way."""
    return formats.clock(datetime.fromtimestamp(ms / 1000, UTC), current.language(), timezone)


def alerts_list(alerts: Mapping | None, timezone: str, limit: int = 8) -> list:
    """The newest alerts, or an honest line when alerting is not running or nothing fires."""
    if not alerts or not alerts.get("available"):
        return [html.P(_("Alerting is not running yet: no alert rules are evaluated, so none can fire."),
                       className="muted alerts-empty")]  # fmt: skip
    items = first_expected(alerts.get("items", []))[:limit]
    if not items:
        return [html.P(_("No open alerts."), className="muted alerts-empty")]
    return [html.Ul([html.Li([*_alert_marks(a, timezone), alert_title(a)],
                             className="alert-predicted" if a.get("predicted") else None)
                     for a in items], className="alerts-list")]  # fmt: skip


def first_expected(items: Sequence[Mapping]) -> list[Mapping]:
    """Predicted alerts first, soonest expected first, then the others in the snapshot's order (most severe,
    newest): what is about to happen is what an officer can still act on."""
    predicted = sorted((a for a in items if a.get("predicted")), key=lambda a: a.get("expected_ms") or 0)
    return [*predicted, *(a for a in items if not a.get("predicted"))]


def _alert_marks(alert: Mapping, timezone: str) -> list:
    """A listed alert's badge and time: its severity and when it fired, or for a predicted one "predicted" and
    how long until its level is expected."""
    if alert.get("predicted"):
        return [html.Span(_("predicted"), className="sev sev-predicted"),
                html.Span(current.lead_time(alert.get("lead_min")), className="alert-lead")]  # fmt: skip
    return [html.Span(term("severity", alert["severity"]), className=f"sev sev-{alert['severity']}"),
            html.Span(clock_time(alert["at_ms"], timezone), className="muted")]


def status_counts(counts: Mapping[str, int] | None, colours: Mapping[str, str]) -> list:
    """``normal 1,812 · warning 40 · …`` with a coloured dot per status."""
    counts = counts or {}
    items = [html.Span([html.Span(className="legend-dot", style={"background": colours[s]}),
                        f"{term('sensor_status', s)} {number(counts.get(s, 0))}"], className="legend-item")
             for s in colours]  # fmt: skip
    if counts.get("not_shown"):
        items.append(html.Span(_("+ {count} more devices not on the map (over IOC_LIVE_MAX_SENSORS)").format(
            count=number(counts["not_shown"])), className="legend-item legend-not-shown"))  # fmt: skip
    return items


def sites_table(sites: Sequence[Mapping] | None) -> html.Table | html.P:
    """Per data-centre site: PUE now, IT and facility load, inlet temperature."""
    if not sites:
        return html.P(_("No data-centre samples yet."), className="muted")
    kw, celsius = current.unit_label("kW"), current.unit_label("°C")
    head = [
        _("site"),
        _("PUE now"),
        _("IT {unit}").format(unit=kw),
        _("facility {unit}").format(unit=kw),
        _("inlet {unit}").format(unit=celsius),
    ]
    rows = [[s["site"], number(s["pue"], 2), number(s["it_kw"]), number(s["facility_kw"]),
             number(s.get("inlet_temp_c"), 1)] for s in sites]  # fmt: skip
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                       html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                      className="data-table sites-table")  # fmt: skip


def latest_line(reading: Mapping | None, timezone: str) -> str:
    """``Newest reading: aq-0042 PM2.5 37.5 ug/m3 at 10:21:03``."""
    if not reading:
        return _("No readings yet.")
    value = f"{current.number(reading['value'], 2 if abs(reading['value']) < 100 else 0)} {reading['unit']}".strip()
    return _("Newest reading: {device} {metric} {value} at {time}").format(
        device=reading["id"], metric=term("metric", reading["metric"]), value=value,
        time=clock_time(reading["ts_ms"], timezone))  # fmt: skip


def alert_title(alert: Mapping) -> str:
    """An alert of the snapshot in a line: its summary in the request's language (``i18n.alert_text``)."""
    return current.alert_summary(
        {
            "rule_id": alert.get("rule"),
            "subject": alert.get("subject"),
            "value": alert.get("value"),
            "summary": alert.get("title"),
            **prediction_columns(alert),
        }
    )


def prediction_columns(alert: Mapping) -> dict:
    """A snapshot alert's forecast (epoch ms) as the alert row's columns, which a forecast summary is written from.

    The summary counts "in about 25 minutes" from the snapshot's time, not from when the forecast was made, so
    it agrees with the lead shown beside it (the console keeps the words as they were when the alert fired)."""
    if not alert.get("predicted"):
        return {}

    def at(key: str) -> datetime | None:
        return None if alert.get(key) is None else datetime.fromtimestamp(alert[key] / 1000, UTC)

    return {"predicted": True, "forecast_at": at("counted_from_ms") or at("forecast_ms"),
            "expected_at": at("expected_ms"), "expected_earliest": at("earliest_ms"),
            "expected_latest": at("latest_ms")}
