"""History: a metric by district (rollups) or by device (raw readings), drawn and exported as CSV."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Dash, Input, Output, State, no_update

import bootstrap
from auth.roles import Permission
from auth.web import requires
from callbacks import choices
from forecast.charts import chart_forecast, series_projection
from layouts import city_map, history, ids
from layouts.time_range import window


def _rows(queries, mode: object, metric: object, districts: object, device: object, choice: object) -> list[dict]:
    metric = choices.one(metric)
    if not metric:
        return []
    since, until = window(choices.one(choice), datetime.now(UTC))
    if mode == "device":
        device = (choices.one(device) or "").strip()
        return history.labelled(queries.device_series(device, metric, since, until), device) if device else []
    return history.labelled(queries.district_series(metric, since, until, list(choices.several(districts)) or None))


def register(app: Dash, services) -> None:
    @app.callback(Output(ids.HISTORY_METRIC, "options"), Output(ids.HISTORY_METRIC, "value"),
                  Output(ids.HISTORY_DISTRICTS, "options"), Input(ids.HISTORY_MODE, "id"),
                  State(ids.HISTORY_METRIC, "value"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def load_options(_mode_id: str, metric: str | None):
        options = history.metric_options(services.queries.sensor_metrics())
        chosen = metric or (options[0]["value"] if options else None)
        return options, chosen, city_map.district_options(bootstrap.districts_geojson(services.settings))

    @app.callback(Output(ids.HISTORY_CHART, "figure"), Output(ids.HISTORY_DISTRICTS, "disabled"),
                  Output(ids.HISTORY_DEVICE, "disabled"), Input(ids.HISTORY_MODE, "value"),
                  Input(ids.HISTORY_METRIC, "value"), Input(ids.HISTORY_DISTRICTS, "value"),
                  Input(ids.HISTORY_DEVICE, "value"), Input(ids.HISTORY_RANGE, "value"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def draw(mode: str, metric: str | None, districts: list[str] | None, device: str | None, choice: str | None):
        rows = _rows(services.queries, mode, metric, districts, device, choice)
        since, until = window(choices.one(choice), datetime.now(UTC))
        first = services.queries.first_minute("sensor") if rows else None
        forecasts = series_forecasts(rows, services.alert_rules(), choices.one(metric), mode)
        return (history.series_figure(rows, metric, since, until, first, forecasts), mode == "device",
                mode != "device")  # fmt: skip

    @app.callback(Output(ids.HISTORY_DOWNLOAD, "data"), Input(ids.HISTORY_EXPORT, "n_clicks"),
                  State(ids.HISTORY_MODE, "value"), State(ids.HISTORY_METRIC, "value"),
                  State(ids.HISTORY_DISTRICTS, "value"), State(ids.HISTORY_DEVICE, "value"),
                  State(ids.HISTORY_RANGE, "value"), prevent_initial_call=True)  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def export(_clicks: int | None, mode: str, metric: str | None, districts: list[str] | None, device: str | None,
               choice: str | None):  # fmt: skip
        metric, device, choice = choices.one(metric), choices.one(device), choices.one(choice)
        if not metric:
            return no_update
        rows = _rows(services.queries, mode, metric, districts, device, choice)
        target = (device or "device") if mode == "device" else "-".join(choices.several(districts)) or "all-districts"
        name = history.export_filename(metric, target, choice or "24h", datetime.now(UTC))
        return {"content": history.series_csv(rows), "filename": name, "type": "text/csv"}


def series_forecasts(rows: list[dict], rules: list, metric: str | None, mode: object) -> dict:
    """Series → (projection, settings) of each series with enough points in the forecast's window (every range
    ends now; a range drawn in hour buckets has too few and is drawn without)."""
    if not rows or not metric:
        return {}
    settings = chart_forecast(rules, None, metric, "device" if mode == "device" else "district")
    forecasts = {}
    for name in {r["series"] for r in rows}:
        points = [r for r in rows if r["series"] == name]
        projection = series_projection([p["bucket"].timestamp() for p in points], [p["mean"] for p in points],
                                       settings)  # fmt: skip
        if projection is not None:
            forecasts[name] = (projection, settings)
    return forecasts
