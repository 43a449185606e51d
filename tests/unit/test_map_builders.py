"""The city map's pure builders: sensor status, filters, density, history figure."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bootstrap
from layouts import city_map
from live.snapshot import latest_devices
from settings import Settings

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
BANDS = bootstrap.status_bands(Settings())


def row(device, metric, value, age_s=10, kind="air_quality", district="futian"):
    return {"device_id": device, "metric": metric, "kind": kind, "unit": "ug/m3", "value": value,
            "ts": NOW - timedelta(seconds=age_s), "lat": 22.54, "lon": 114.06, "district": district}


def test_a_device_takes_the_worst_status_of_its_metrics_and_goes_stale_when_silent():
    states = latest_devices([row("aq-1", "pm25", 20.0), row("aq-1", "pm10", 300.0), row("aq-2", "pm25", 80.0),
                             row("aq-3", "pm25", 20.0, age_s=3600)], NOW, BANDS)  # fmt: skip
    assert {s["id"]: s["status"] for s in states} == {"aq-1": "critical", "aq-2": "warning", "aq-3": "stale"}
    assert {"id", "lat", "lon", "kind", "district", "status"} <= set(states[0])  # the snapshot's shape
    assert states[0]["why"]["band"] == "air_quality/pm10" and states[0]["why"]["limit"] == 250


def test_filters_keep_the_chosen_kinds_and_districts_and_empty_means_all():
    sensors = [{"id": "a", "kind": "traffic", "district": "futian"}, {"id": "b", "kind": "noise", "district": "luohu"}]
    assert city_map.filter_sensors(sensors, None, []) == sensors
    assert [s["id"] for s in city_map.filter_sensors(sensors, ["noise"], None)] == ["b"]
    assert city_map.filter_sensors(sensors, ["noise"], ["futian"]) == []


def test_counts_density_and_options():
    sensors = [{"kind": "noise", "status": "normal"}, {"kind": "traffic", "status": "stale"},
               {"kind": "noise", "status": "stale"}]
    assert city_map.status_counts(sensors) == {"normal": 1, "warning": 0, "critical": 0, "stale": 2}
    assert city_map.kind_options(sensors) == [{"label": "noise", "value": "noise"},
                                              {"label": "traffic", "value": "traffic"}]
    hideout = city_map.density_hideout({"futian": 1, "luohu": 9, "nanshan": 10, "baoan": 250, "yantian": 0})
    assert hideout["classes"] == {"futian": 1, "luohu": 1, "nanshan": 2, "baoan": 4, "yantian": 0}
    assert hideout["opacities"][0] == 0 and hideout["opacities"] == sorted(hideout["opacities"])
    assert city_map.density_hideout({})["classes"] == {}


def test_the_map_fits_every_district():
    square = {"type": "Polygon", "coordinates": [[[114.0, 22.5], [114.2, 22.5], [114.2, 22.7], [114.0, 22.5]]]}
    islands = {"type": "MultiPolygon", "coordinates": [[[[113.8, 22.4], [113.9, 22.4], [113.9, 22.45], [113.8, 22.4]]]]}
    geojson = {"features": [{"geometry": square}, {"geometry": islands}]}
    assert city_map.city_bounds(geojson) == [[22.4, 113.8], [22.7, 114.2]]
    assert city_map.fit_city(geojson)["transition"] == "fitBounds"


def test_district_options_come_from_our_geojson(settings):
    geojson = json.loads(Path(settings.districts_geojson).read_text(encoding="utf-8"))
    options = city_map.district_options(geojson)
    assert {o["value"] for o in options} >= {"futian", "nanshan", "baoan"}
    assert any(o["label"] == "Futian" for o in options)  # in the request's language, English outside one


def test_no_tile_layer_unless_a_url_is_configured():
    assert city_map.tile_layers("", "") == []
    (layer,) = city_map.tile_layers("https://tiles.example/{z}/{x}/{y}.png", "© example")
    assert layer.url.endswith("{y}.png")


def test_history_figure_draws_a_line_per_metric():
    readings = [{"ts": NOW, "metric": "pm25", "unit": "ug/m3", "value": 3.0},
                {"ts": NOW, "metric": "pm10", "unit": "ug/m3", "value": 5.0}]
    fig = city_map.device_history_figure("aq-1", readings)
    assert sorted(t.name for t in fig.data) == ["PM10 (ug/m3)", "PM2.5 (ug/m3)"]
    assert "no readings" in city_map.device_history_figure("aq-1", []).layout.title.text


def test_the_map_layout_draws_the_servers_clusters_and_reports_its_view():
    layout = city_map.map_layout()
    found = {}

    def walk(node):
        if getattr(node, "id", None):
            found[node.id] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    walk(layout)
    sensors = found["map-layer-sensors"]
    # the browser does not cluster (the server does, per view), so the map must report its view
    assert getattr(sensors, "cluster", None) in (None, False)
    assert sensors.pointToLayer == {"variable": "ioc.map.sensorOrCluster"}
    assert getattr(found["map-map"], "trackViewport", True) is True


def _texts(component) -> list[str]:
    """Every string inside a component tree, in order."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list | tuple):
        return [t for c in component for t in _texts(c)]
    return _texts(getattr(component, "children", None) or [])


def test_a_clicked_sensor_says_which_band_and_level_make_it_critical_and_links_its_alert():
    sensor = latest_devices([row("aq-1", "pm25", 128.0)], NOW, BANDS)[0]
    alerts = [{"id": 41, "rule": "band_air_quality_pm25", "subject": "aq-1", "severity": "critical",
               "summary": "<b>pm25</b> at aq-1"}, {"id": 7, "rule": "other", "subject": "aq-2", "severity": "info"}]
    panel = city_map.sensor_status(sensor, alerts, "(more subjects)")
    assert panel[0].children == "critical: PM2.5 128 ug/m3 ≥ 115 (band air_quality/pm25)"
    links = panel[1].children
    assert [li.children.href for li in links] == ["/alerts?alert=41"]
    assert links[0].children.children == "alert #41 (critical): <b>pm25</b> at aq-1"  # text, never markup


def test_a_sensor_without_its_own_alert_links_the_bands_summary_alert_or_says_when_one_opens():
    sensor = latest_devices([row("tr-1", "speed_kmh", 8.0, kind="traffic")], NOW, BANDS)[0]
    capped = [{"id": 9, "rule": "band_traffic_speed_kmh", "subject": "(more subjects)", "severity": "critical"}]
    assert city_map.sensor_status(sensor, capped, "(more subjects)")[1].children[0].children.href == "/alerts?alert=9"
    waiting = " ".join(_texts(city_map.sensor_status(sensor, [], "(more subjects)")))
    assert "critical: speed 8 ug/m3 ≤ 10 (band traffic/speed_kmh)" in waiting
    assert "No open alert yet: rule band_traffic_speed_kmh opens one after 5 min at this level." in waiting
    warning = latest_devices([row("aq-2", "pm25", 80.0)], NOW, BANDS)[0]
    assert "No open alert about this sensor." in _texts(city_map.sensor_status(warning, [], "(more subjects)"))


def test_a_silent_sensor_says_how_long_and_when_it_counts_as_stale():
    sensor = latest_devices([row("aq-3", "pm25", 20.0, age_s=17 * 60)], NOW, BANDS)[0]
    assert city_map.status_reason(sensor) == "stale: silent 17 min, stale after 15 min"
    normal = latest_devices([row("aq-4", "pm25", 20.0)], NOW, BANDS)[0]
    assert city_map.status_reason(normal).startswith("normal")
    assert city_map.status_reason(None).startswith("status unknown")
