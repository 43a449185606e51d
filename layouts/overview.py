"""The overview (home) page: the city's KPIs against the same time yesterday, sensors on a map, latest alerts.

Everything on it comes from the live snapshot through ``callbacks.live``; the layout is the empty frame.
"""

from __future__ import annotations

from dash import dcc, html

from i18n.current import _
from layouts import ids
from layouts.live import kpi_grid
from layouts.live_map import live_map

VIEW = "overview"
OVERVIEW_KPIS = (
    "devices_online_pct", "readings_per_min", "complaints_today", "complaints_open", "sla_share_pct",
    "median_close_h", "satisfaction_pct", "pue_now", "pue_24h", "energy_saved_pct", "alerts_open",
)  # fmt: skip
DEFAULT_REFRESH_MS = 1000  # replaced by IOC_LIVE_REFRESH_MS on the first answer


def live_plumbing() -> list:
    """The tick, the record of what this browser has already drawn, and the server clock for freshness."""
    return [dcc.Interval(id=ids.LIVE_TICK, interval=DEFAULT_REFRESH_MS),
            dcc.Store(id=ids.LIVE_SEEN, data={}), dcc.Store(id=ids.LIVE_CLOCK, data={})]  # fmt: skip


def panel(title: str, *children, class_name: str = "") -> html.Section:
    """A titled panel."""
    return html.Section([html.H2(title), *children], className=f"panel {class_name}".strip())


def overview_layout() -> html.Div:
    """Head with freshness, KPI tiles, then the sensor map beside alerts and data centres."""
    return html.Div([
        html.Div([html.H1(_("City overview")), html.Div(id=ids.LIVE_FRESHNESS, className="freshness")],
                 className="page-head"),
        kpi_grid(OVERVIEW_KPIS, VIEW),
        html.Div([
            panel(_("Sensors"), html.Div(id={"type": ids.LIVE_COUNTS, "view": VIEW}, className="map-legend"),
                  live_map(VIEW), html.P(id={"type": ids.LIVE_LATEST, "view": VIEW}, className="muted latest"),
                  class_name="overview-map"),
            html.Div([
                panel(_("Latest alerts"), html.Div(id={"type": ids.LIVE_ALERTS, "view": VIEW})),
                panel(_("Data centres"), html.Div(id={"type": ids.LIVE_SITES, "view": VIEW})),
            ], className="overview-side"),
        ], className="overview-row"),
        *live_plumbing(),
    ], className="overview")  # fmt: skip
