"""The city map: sensors (with status), district outlines, complaint density, and a clicked sensor's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dash import Dash, Input, Output, State, no_update

import bootstrap
from alerts.store import HELD_BACK
from auth.roles import Permission
from auth.web import requires
from callbacks import choices
from callbacks.map_sensors import MapSensors
from forecast.charts import chart_forecast, series_projection
from i18n.current import _
from i18n.terms import term
from layouts import city_map, ids

HISTORY_SPAN = timedelta(hours=24)
# Where the page's layout finds the first view's clusters (``app.server.extensions``): pages/city_map.py.
FIRST_VIEW = "ioc.map.first_view"


def register(app: Dash, services, sensors: MapSensors) -> None:
    def first_view() -> dict:
        """The clusters of the whole city at the map's first zoom, sent with the page itself: the map shows the
        city's state as it appears, one round trip before any callback could (the view the map then reports, once
        it has fitted the city to its box, replaces them)."""
        index, _counts = sensors.chosen(services, (), ())
        return index.features(None, float(city_map.ZOOM))

    app.server.extensions[FIRST_VIEW] = first_view

    @app.callback(Output(ids.MAP_LAYER_DISTRICTS, "data"), Output(ids.MAP_FILTER_DISTRICT, "options"),
                  Output(ids.MAP_TILES, "children"), Output(ids.MAP_MAP, "viewport"),
                  Input(ids.MAP_MAP, "id"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def load_outlines(_map_id: str):
        geojson = bootstrap.districts_geojson(services.settings)
        settings = services.settings
        return (geojson, city_map.district_options(geojson),
                city_map.tile_layers(settings.map_tile_url, settings.map_tile_attribution),
                city_map.fit_city(geojson))  # fmt: skip

    @app.callback(Output(ids.MAP_LAYER_DENSITY, "data"), Output(ids.MAP_LAYER_DENSITY, "hideout"),
                  Output(ids.MAP_DENSITY_TABLE, "children"), Input(ids.MAP_TICK, "n_intervals"),
                  State(ids.MAP_LAYER_DENSITY, "data"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh_density(_n: int | None, shown: dict | None):
        geojson = bootstrap.districts_geojson(services.settings)
        open_by_district = services.queries.open_complaints_by_district()
        names = {o["value"]: o["label"] for o in city_map.district_options(geojson)}
        return (no_update if shown else geojson, city_map.density_hideout(open_by_district),
                city_map.density_table(open_by_district, names))  # fmt: skip

    # Not on the page's first render: the page brings the first view's clusters (``first_view``), and the map
    # reports its fitted view at once, which asks for these.
    @app.callback(Output(ids.MAP_LAYER_SENSORS, "data"), Input(ids.MAP_MAP, "bounds"), Input(ids.MAP_MAP, "zoom"),
                  Input(ids.MAP_TICK, "n_intervals"), Input(ids.MAP_FILTER_KIND, "value"),
                  Input(ids.MAP_FILTER_DISTRICT, "value"), prevent_initial_call=True)  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh_view(bounds: object, zoom: object, _n: int | None, kinds: object, districts: object):
        # Clusters for the part of the city on screen: the browser never receives more than a view's worth.
        index, _counts = sensors.chosen(services, choices.several(kinds), choices.several(districts))
        return index.features(*choices.map_view(bounds, zoom))

    @app.callback(Output(ids.MAP_SENSOR_COUNT, "children"), Output(ids.MAP_FILTER_KIND, "options"),
                  Input(ids.MAP_TICK, "n_intervals"), Input(ids.MAP_FILTER_KIND, "value"),
                  Input(ids.MAP_FILTER_DISTRICT, "value"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh_counts(_n: int | None, kinds: object, districts: object):
        _index, counts = sensors.chosen(services, choices.several(kinds), choices.several(districts))
        # The options are kept per worker; their labels are this viewer's language.
        options = [{"label": term("kind", o["value"]), "value": o["value"]} for o in sensors.kind_options(services)]
        return city_map.counts_line(counts), options

    @app.callback(Output(ids.MAP_LAYER_ALERTS, "data"), Output(ids.MAP_ALERTS_SEEN, "data"),
                  Output(ids.MAP_ALERTS_TICK, "interval"), Input(ids.MAP_ALERTS_TICK, "n_intervals"),
                  State(ids.MAP_ALERTS_SEEN, "data"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh_alerts(_n: int | None, seen: str | None):
        # From the live snapshot, so a tick costs no query; markers are re-sent only when they moved.
        interval = no_update if seen is not None else services.settings.live_refresh_ms
        snapshot = services.snapshot()
        digest = ((snapshot.doc.get("digests") or {}).get("alert_markers") or "") if snapshot else ""
        if seen is not None and digest == seen:
            return no_update, no_update, interval
        items = ((snapshot.doc.get("alerts") or {}).get("items") or []) if snapshot else []
        return city_map.alert_features(items), digest, interval

    @app.callback(Output(ids.MAP_HISTORY, "children"),
                  Output(ids.MAP_PANEL_TITLE, "children"), Output(ids.MAP_SENSOR_STATUS, "children"),
                  Input(ids.MAP_LAYER_SENSORS, "clickData"), prevent_initial_call=True)  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def show_history(feature: dict | None):
        props = (feature or {}).get("properties") or {}
        device_id = props.get("id")
        if props.get("cluster") or not isinstance(device_id, str):
            return no_update, no_update, no_update
        now = datetime.now(UTC)
        readings = services.queries.device_readings(device_id, now - HISTORY_SPAN, now)
        snapshot = services.snapshot()
        alerts = ((snapshot.doc.get("alerts") or {}).get("items") or []) if snapshot else []
        sensor = sensors.sensor(services, device_id)
        status = city_map.sensor_status(sensor, alerts, HELD_BACK)
        forecasts = device_forecasts(readings, services.alert_rules(), (sensor or {}).get("kind"))
        return (city_map.history_graph(device_id, readings, forecasts), _("Sensor {device}").format(device=device_id),
                status)  # fmt: skip


def device_forecasts(readings: list[dict], rules: list, kind: str | None) -> dict:
    """Metric → (projection, settings) of each of a device's series that has enough recent readings to fit."""
    forecasts = {}
    for metric in {r["metric"] for r in readings}:
        points = [r for r in readings if r["metric"] == metric]
        settings = chart_forecast(rules, kind, metric)
        projection = series_projection([r["ts"].timestamp() for r in points], [r["value"] for r in points], settings)
        if projection is not None:
            forecasts[metric] = (projection, settings)
    return forecasts
