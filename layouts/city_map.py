"""The city map (/map): every sensor clustered on the district outlines, coloured by status, and its history.

The server clusters the sensors (geo/clusters.py) and sends only the clusters and single sensors of the view the
map reports (its bounds and zoom): a cluster carries its count per status, so its colour is the worst status
inside it at any zoom, and the browser draws a few hundred features whatever the size of the city. The small
live maps of the overview and the wall take the same clusters for their one zoom. Colours and complaint counts
go in the layers' ``hideout``, read by ``assets/ioc_map.js``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import dash_leaflet as dl
import plotly.graph_objects as go
from dash import dcc, html

from forecast.charts import ChartForecast
from forecast.trend import Projection
from i18n import current
from i18n.current import N_, _
from i18n.districts import district_label, names_from_features
from i18n.terms import term
from layouts import ids
from layouts.chart_time import date_ticks
from layouts.figure_theme import FIGURE_THEME
from layouts.forecast_chart import add_forecast
from layouts.incident_overlays import incident_layer
from layouts.live import prediction_columns
from live.thresholds import CRITICAL, NORMAL, STALE, WARNING

STATUSES = (NORMAL, WARNING, CRITICAL, STALE)  # a feature's ``s`` is the index in this tuple
STATUS_CODE = {status: n for n, status in enumerate(STATUSES)}
STATUS_COLOURS = {NORMAL: "#2e9d5b", WARNING: "#f0a202", CRITICAL: "#d7263d", STALE: "#8a8f98"}
# The same statuses as text on the dark page: lighter, so each reads at 4.5:1 or better (WCAG AA).
STATUS_TEXT_COLOURS = {NORMAL: "#3fb950", WARNING: "#f0a202", CRITICAL: "#ff6b7d", STALE: "#aeb4bd"}
CENTER, ZOOM = (22.62, 114.12), 10
REFRESH_MS = 30_000
# Open alerts come from the live snapshot (no query per viewer), so they can follow it closely: the first
# answer sets the tick to IOC_LIVE_REFRESH_MS.
ALERTS_FIRST_TICK_MS = 1_000
# Server-side clusters (geo/clusters.py): a cluster from 3 sensors, single sensors past zoom 17; the cells' size
# in pixels is IOC_MAP_CLUSTER_PX.
CLUSTER_OPTIONS = {"min_points": 3, "max_zoom": 17}
OUTLINE_STYLE = {"color": "#334155", "weight": 1.5, "fill": False}
JS = "ioc.map."
ALERT_COLOURS = {"critical": "#d7263d", "warning": "#f0a202", "info": "#3b82f6", "predicted": "#58a6ff"}
# Open complaints per district in fixed classes (lower bound, label, fill opacity): a district's shade means the
# same on every day, and one request tints a district instead of filling it as the busiest.
COMPLAINT_CLASSES = ((0, N_("none"), 0.0), (1, "1–9", 0.12), (10, "10–49", 0.25), (50, "50–199", 0.4),
                     (200, N_("200 or more"), 0.55))  # fmt: skip
COMPLAINT_COLOUR = "#c2410c"
MAP_GROUND = "#dfe3e8"  # .leaflet-container in assets/ioc_pages.css


def filter_sensors(sensors: Iterable[Mapping], kinds: Sequence[str] | None, districts: Sequence[str] | None) -> list:
    """The sensors of the chosen kinds and districts (an empty choice means all)."""
    kind_set, district_set = set(kinds or ()), set(districts or ())
    return [s for s in sensors
            if (not kind_set or s["kind"] in kind_set) and (not district_set or s["district"] in district_set)]


def status_counts(sensors: Iterable[Mapping]) -> dict[str, int]:
    """Sensors per status, every status present."""
    counts = dict.fromkeys(STATUSES, 0)
    for s in sensors:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    return counts


def complaint_class(open_requests: int) -> int:
    """The class of a district's open requests: the last class whose lower bound the count reaches."""
    return max(n for n, (low, _label, _opacity) in enumerate(COMPLAINT_CLASSES) if open_requests >= low)


def density_hideout(open_by_district: Mapping[str, int]) -> dict:
    """What the density layer's style function reads: each district's class, and each class's fill."""
    return {"classes": {d: complaint_class(n) for d, n in open_by_district.items()}, "colour": COMPLAINT_COLOUR,
            "opacities": [opacity for _low, _label, opacity in COMPLAINT_CLASSES]}  # fmt: skip


def density_legend() -> html.Div:
    """The complaint layer's classes, in the fills the map uses."""
    return html.Div([html.Span(_("Open complaints per district:"))] + [
        html.Span([html.Span(className="density-swatch", style={"background": _over_map(COMPLAINT_COLOUR, opacity)}),
                   _(label)], className="legend-item")
        for low, label, opacity in COMPLAINT_CLASSES if low > 0
    ], className="density-legend")  # fmt: skip


def _over_map(colour: str, opacity: float, ground: str = MAP_GROUND) -> str:
    """The colour a fill of ``opacity`` shows on the map's background (the legend sits on the dark page)."""
    mixed = (round(int(colour[i : i + 2], 16) * opacity + int(ground[i : i + 2], 16) * (1 - opacity))
             for i in (1, 3, 5))  # fmt: skip
    return "#" + "".join(f"{c:02x}" for c in mixed)


def city_bounds(geojson: Mapping) -> list[list[float]]:
    """``[[south, west], [north, east]]`` around every district outline: what the map fits to its box."""
    lons, lats = [], []

    def walk(coords: object) -> None:
        if coords and isinstance(coords[0], int | float):
            lons.append(coords[0])
            lats.append(coords[1])
        else:
            for part in coords:
                walk(part)

    for feature in geojson["features"]:
        walk(feature["geometry"]["coordinates"])
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def fit_city(geojson: Mapping) -> dict:
    """The map's viewport: the whole city filling the box, without an animation on first load."""
    return {"bounds": city_bounds(geojson), "transition": "fitBounds", "options": {"animate": False, "padding": [6, 6]}}


def district_options(geojson: Mapping) -> list[dict]:
    """Dropdown options from the district outlines: the name in the request's language, district id as value."""
    names = names_from_features(geojson["features"])
    return [{"label": district_label(f["properties"]["id"], current.language(), names), "value": f["properties"]["id"]}
            for f in geojson["features"]]  # fmt: skip


def kind_options(sensors: Iterable[Mapping]) -> list[dict]:
    """Dropdown options for the sensor kinds present."""
    return [{"label": term("kind", kind), "value": kind} for kind in sorted({s["kind"] for s in sensors})]


def alert_features(alerts: Iterable[Mapping]) -> dict:
    """Open alerts that have a position, as GeoJSON points carrying severity, rule, subject and summary; a
    predicted one also ``predicted`` and ``lead``, how long until its level is expected, in words."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [a["lon"], a["lat"]]},
         "properties": {"id": a["id"], "severity": a["severity"], "rule": a["rule"], "subject": a["subject"],
                        "summary": current.alert_summary({**a, "rule_id": a.get("rule"), **prediction_columns(a)}),
                        **({"predicted": True, "lead": current.lead_time(a.get("lead_min"))}
                           if a.get("predicted") else {})}}
        for a in alerts if a.get("lat") is not None and a.get("lon") is not None
    ]}  # fmt: skip


def alert_layer(layer_id: object, radius: float = 9) -> dl.GeoJSON:
    """The open-alerts marker layer (rings coloured by severity), drawn above the sensors."""
    return dl.GeoJSON(id=layer_id, data=alert_features([]), pointToLayer={"variable": "ioc.live.alertPoint"},
                      hideout={"colours": ALERT_COLOURS, "radius": radius})  # fmt: skip


def tile_layers(url: str, attribution: str) -> list:
    """A basemap tile layer when a URL is configured; none by default (outlines only, no third-party tiles)."""
    return [dl.TileLayer(url=url, attribution=attribution)] if url else []


def history_graph(device_id: str, readings: Sequence[Mapping],
                  forecasts: Mapping[str, tuple[Projection, ChartForecast]] | None = None) -> dcc.Graph:  # fmt: skip
    """The clicked sensor's chart, as the component the side panel receives."""
    return dcc.Graph(figure=device_history_figure(device_id, readings, forecasts), config={"displaylogo": False})


def device_history_figure(device_id: str, readings: Sequence[Mapping],
                          forecasts: Mapping[str, tuple[Projection, ChartForecast]] | None = None) -> go.Figure:
    """A line per metric of one device's raw readings, each followed by its forecast (``forecasts``: metric →
    projection and the settings it was made with) when there is one."""
    fig = go.Figure()
    for metric in sorted({r["metric"] for r in readings}):
        points = [r for r in readings if r["metric"] == metric]
        name = term("metric", metric)
        fig.add_scatter(x=[r["ts"] for r in points], y=[r["value"] for r in points], mode="lines",
                        name=f"{name} ({points[0]['unit']})" if points[0]["unit"] else name)  # fmt: skip
        if metric in (forecasts or {}):
            add_forecast(fig, *forecasts[metric])
    title = _("{device}: last 24 h") if readings else _("{device}: no readings in 24 h")
    date_ticks(fig)
    fig.update_layout(title=title.format(device=device_id),
                      margin={"l": 40, "r": 10, "t": 40, "b": 30}, height=320, legend={"orientation": "h"},
                      **FIGURE_THEME)  # fmt: skip
    return fig


def _span(seconds: float) -> str:
    """A duration as an officer reads it: seconds under 90 s, minutes under 2 h, hours after."""
    if seconds < 90:
        return current.unit(seconds, "s")
    if seconds < 7200:
        return current.unit(seconds / 60, "min")
    return current.unit(seconds / 3600, "h", 1)


def status_reason(sensor: Mapping | None) -> str:
    """Why a sensor has its colour, in words: the band and level it crossed, or how long it has been silent.

    ``sensor`` is an entry of the snapshot's ``sensors`` (its ``why`` says what the status bands found)."""
    if sensor is None:
        return _("status unknown: this sensor is not in the live snapshot")
    status, why = sensor.get("status"), sensor.get("why") or {}
    if status == STALE and "silent_s" in why:
        return _("stale: silent {silent}, stale after {after}").format(
            silent=_span(why["silent_s"]), after=_span(why["stale_after_s"]))
    if status in (WARNING, CRITICAL) and why.get("band"):
        sign = "≥" if why.get("op") == ">=" else "≤"
        unit = f" {why['unit']}" if why.get("unit") else ""
        return _("{status}: {metric} {value}{unit} {sign} {limit} (band {band})").format(
            status=term("sensor_status", status), metric=term("metric", why["metric"]), value=f"{why['value']:g}",
            unit=unit, sign=sign, limit=f"{why['limit']:g}", band=why["band"])  # fmt: skip
    return _("normal: no metric at a warning or critical level of its band")


def sensor_alerts(sensor: Mapping | None, alerts: Iterable[Mapping], held_back_subject: str) -> list:
    """The open alerts about a sensor, each a link to it in the console; the band rule's summary alert when its
    cap held this sensor's alert back; or what opens one. Text only: summaries are data, never markup."""
    if sensor is None:
        return []
    why = sensor.get("why") or {}
    own = [a for a in alerts if a.get("subject") == sensor["id"] and isinstance(a.get("id"), int)]
    if not own and why.get("rule"):
        own = [a for a in alerts if a.get("rule") == why["rule"] and a.get("subject") == held_back_subject
               and isinstance(a.get("id"), int)]  # fmt: skip
    if own:
        links = [dcc.Link(_("alert #{id} ({severity}): {summary}").format(
                              id=a["id"], severity=term("severity", a.get("severity")),
                              summary=current.alert_summary({**a, "rule_id": a.get("rule")}) or a.get("rule")),
                          href=f"/alerts?alert={a['id']}") for a in own]  # fmt: skip
        return [html.Ul([html.Li(link) for link in links], className="sensor-alerts")]
    if why.get("alert_after_s") is not None:
        return [html.P(_("No open alert yet: rule {rule} opens one after {after} at this level.").format(
                           rule=why["rule"], after=_span(why["alert_after_s"])), className="muted")]  # fmt: skip
    return [html.P(_("No open alert about this sensor."), className="muted")]


def sensor_status(sensor: Mapping | None, alerts: Iterable[Mapping], held_back_subject: str) -> list:
    """The side panel's status of a clicked sensor: its reason line, in its status colour, and its alerts."""
    status = (sensor or {}).get("status")
    colour = STATUS_TEXT_COLOURS.get(status) if isinstance(status, str) else None
    return [html.P(status_reason(sensor), className="sensor-reason", style={"color": colour} if colour else {}),
            *sensor_alerts(sensor, alerts, held_back_subject)]  # fmt: skip


def counts_line(counts: Mapping[str, int]) -> list:
    """The line above the map: sensors shown, then how many per status, in the status colours."""
    total = sum(counts.values())
    parts: list = [_("{count} sensors").format(count=current.number(total))]
    for status in STATUSES:
        parts += [" · ", html.Span(f"{term('sensor_status', status)} {current.number(counts.get(status, 0))}",
                                   style={"color": STATUS_TEXT_COLOURS[status]})]  # fmt: skip
    return parts


def density_table(open_by_district: Mapping[str, int], names: Mapping[str, str]) -> html.Table:
    """Open requests per district, most first."""
    rows = sorted(open_by_district.items(), key=lambda item: (-item[1], item[0]))
    return html.Table([
        html.Thead(html.Tr([html.Th(_("district")), html.Th(_("open requests"))])),
        html.Tbody([html.Tr([html.Td(names.get(d, d)), html.Td(current.number(n))]) for d, n in rows]),
    ], className="data-table")  # fmt: skip


def _legend() -> html.Div:
    return html.Div([html.Span([html.Span(className="legend-dot", style={"background": STATUS_COLOURS[s]}),
                                term("sensor_status", s)],
                               className="legend-item") for s in STATUSES], className="map-legend")  # fmt: skip


def _map(sensors: dict | None) -> dl.Map:
    colours = [STATUS_COLOURS[s] for s in STATUSES]
    # zoomSnap 0.1: fitting the city to the box at whole zoom levels left it filling about half of it.
    return dl.Map(id=ids.MAP_MAP, center=list(CENTER), zoom=ZOOM, zoomSnap=0.1, style={"height": "72vh"},
                  children=[
        dl.LayerGroup(id=ids.MAP_TILES),
        dl.LayersControl([
            dl.Overlay(dl.GeoJSON(id=ids.MAP_LAYER_DENSITY, style={"variable": JS + "densityStyle"},
                                  hideout=density_hideout({}), interactive=False),
                       name=_("Open complaints per district"), checked=True),
            dl.Overlay(dl.GeoJSON(id=ids.MAP_LAYER_DISTRICTS, style=OUTLINE_STYLE), name=_("District outlines"),
                       checked=True),
            # Clusters and single sensors of the view, from the server; a cluster zooms to its sensors on click.
            dl.Overlay(dl.GeoJSON(id=ids.MAP_LAYER_SENSORS, pointToLayer={"variable": JS + "sensorOrCluster"},
                                  hideout={"colours": colours}, data=sensors), name=_("Sensors"), checked=True),
            dl.Overlay(alert_layer(ids.MAP_LAYER_ALERTS), name=_("Open alerts"), checked=True),
            dl.Overlay(incident_layer(ids.MAP_LAYER_INCIDENTS), name=_("Incidents"), checked=True),
        ], position="topright"),
    ])  # fmt: skip


def map_layout(sensors: dict | None = None) -> html.Div:
    """Filters, the map (with ``sensors``, the first view's clusters, if given), and a side panel with the clicked
    sensor's history and complaints per district."""
    return html.Div([
        html.H1(_("City map")),
        html.Div([
            dcc.Dropdown(id=ids.MAP_FILTER_KIND, multi=True, placeholder=_("All kinds"), className="filter"),
            dcc.Dropdown(id=ids.MAP_FILTER_DISTRICT, multi=True, placeholder=_("All districts"), className="filter"),
            _legend(),
        ], className="filters"),
        density_legend(),
        html.P(id=ids.MAP_SENSOR_COUNT, className="muted"),
        html.Div([
            html.Div(_map(sensors), className="map-main"),
            html.Aside([
                html.H3(_("Click a sensor for its last 24 h"), id=ids.MAP_PANEL_TITLE),
                html.Div(id=ids.MAP_SENSOR_STATUS, className="sensor-status", **{"aria-live": "polite"}),
                # The chart arrives with the first click: a graph on the page makes Dash fetch and parse plotly.js
                # (4.8 MB), which held the first clusters back by about two seconds.
                html.Div(id=ids.MAP_HISTORY),
                html.H3(_("Open complaints")),
                html.Div(id=ids.MAP_DENSITY_TABLE),
            ], className="map-panel"),
        ], className="map-grid"),
        dcc.Interval(id=ids.MAP_TICK, interval=REFRESH_MS),
        dcc.Interval(id=ids.MAP_ALERTS_TICK, interval=ALERTS_FIRST_TICK_MS),
        dcc.Store(id=ids.MAP_ALERTS_SEEN),
    ])  # fmt: skip
