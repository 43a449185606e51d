"""The wall display (/wall): full screen, dark, large type, rotating views, and a freshness indicator.

Built for a 1920×1080 screen read from 5 m. Every view of the playlist is mounted at once and stacked; the
browser's rotation only changes which one is visible, so it keeps rotating (and the freshness indicator keeps
counting) while the server is unreachable. The wall is read-only: no control on it changes anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import dcc, html

from i18n.current import N_, _
from layouts import ids
from layouts.live import kpi_grid
from layouts.live_map import live_map
from layouts.overview import live_plumbing

# view name → title shown in the header
VIEWS: dict[str, str] = {
    "overview": N_("City overview"),
    "map": N_("Sensors across the city"),
    "alerts": N_("Alerts"),
    "energy": N_("Data centres and energy"),
}
OVERVIEW_KPIS = (
    "devices_online_pct", "readings_per_min", "complaints_today", "complaints_open",
    "sla_share_pct", "median_close_h", "satisfaction_pct", "alerts_open",
    "pue_now", "pue_24h", "energy_saved_pct",
)  # fmt: skip
MIN_INTERVAL_S = 5
INCIDENTS_REFRESH_MS = 15_000
MAX_INTERVAL_S = 3600  # a browser timer fires at once past 2^31 ms; an hour per view is plenty


def wall_config(query: Mapping[str, str], default_playlist: Sequence[str], default_interval_s: int) -> dict:
    """Playlist and seconds per view: ``?playlist=overview,map&interval=20`` over the settings (pure).

    Unknown view names are dropped; an empty result falls back to the default playlist, then to every view.
    """
    asked = [v.strip() for v in (query.get("playlist") or "").split(",") if v.strip()]
    playlist = [v for v in asked if v in VIEWS] or [v for v in default_playlist if v in VIEWS] or list(VIEWS)
    try:
        interval_s = min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, int(float(query.get("interval") or default_interval_s))))
    except (ValueError, OverflowError, TypeError):  # "abc", "inf", "nan"
        interval_s = default_interval_s
    return {"playlist": playlist, "interval_ms": interval_s * 1000, "titles": {v: _(VIEWS[v]) for v in playlist}}


def _view(name: str) -> html.Div:
    view = f"wall-{name}"
    body: list
    if name == "overview":
        body = [kpi_grid(OVERVIEW_KPIS, view)]
    elif name == "map":
        body = [html.Div([live_map(view, dot_radius=6),
                          html.Div([html.Div(id={"type": ids.LIVE_COUNTS, "view": view}, className="wall-legend"),
                                    html.P(id={"type": ids.LIVE_LATEST, "view": view}, className="latest")],
                                   className="wall-map-side")], className="wall-map")]
    elif name == "alerts":
        body = [kpi_grid(("alerts_open", "devices_online_pct"), view),
                html.Div(id={"type": ids.LIVE_ALERTS, "view": view}, className="wall-alerts"),
                *incidents_panel()]
    else:
        body = [kpi_grid(("pue_now", "pue_24h", "energy_saved_pct"), view),
                html.Div(id={"type": ids.LIVE_SITES, "view": view}, className="wall-sites")]
    return html.Div(body, id={"type": ids.WALL_VIEW, "view": name}, className="wall-view")


def incidents_panel() -> list:
    """The open incidents beside the alerts (filled by callbacks/incident_overlays.py on a slow tick of its own:
    unlike the rest of the wall it reads the database, not the live snapshot)."""
    return [html.Section(id=ids.WALL_INCIDENTS, className="wall-incidents"),
            dcc.Interval(id=ids.WALL_INCIDENTS_TICK, interval=INCIDENTS_REFRESH_MS)]


def wall_layout(query: Mapping[str, str]) -> html.Div:
    """Header (brand, view title, freshness, clock) over the stacked views of the asked playlist."""
    asked = wall_config(query, list(VIEWS), MIN_INTERVAL_S)["playlist"] if query.get("playlist") else list(VIEWS)
    return html.Div([
        html.Header([
            html.Div("IOC", id=ids.WALL_BRAND, className="wall-brand"),  # the city's name: callbacks/wall.py
            html.Div(id=ids.WALL_TITLE, className="wall-title"),
            html.Div(id=ids.LIVE_FRESHNESS, className="freshness"),
            html.Div(id=ids.WALL_CLOCK, className="wall-clock"),
        ], className="wall-header"),
        html.Div([_view(name) for name in asked], className="wall-stage"),
        dcc.Store(id=ids.WALL_QUERY, data=dict(query)),
        dcc.Store(id=ids.WALL_CONFIG),
        dcc.Interval(id=ids.WALL_ROTATE, interval=60_000),
        *live_plumbing(),
    ], className="wall")  # fmt: skip
