"""Server-side clusters of the city map (geo/clusters.py) and the map view a client reports (callbacks/choices)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callbacks.choices import map_view
from geo.clusters import ClusterIndex, SensorPoints
from layouts.city_map import CLUSTER_OPTIONS, STATUS_CODE, STATUSES
from settings import Settings

CITY = [[22.45, 113.75], [22.87, 114.63]]  # Shenzhen's extent


def city_sensors(n: int, seed: int = 7, critical: int = 0) -> list[dict]:
    rng = random.Random(seed)
    sensors = [{"id": f"s-{i:06d}", "lat": rng.uniform(22.5, 22.8), "lon": rng.uniform(113.8, 114.5),
                "status": "normal"} for i in range(n)]  # fmt: skip
    for s in sensors[:critical]:
        s["status"] = "critical"
    return sensors


def index_of(sensors: list[dict]) -> ClusterIndex:
    return ClusterIndex(SensorPoints.from_sensors(sensors, STATUS_CODE), Settings().map_cluster_px, **CLUSTER_OPTIONS)


def shown_counts(collection: dict) -> dict[str, int]:
    """Sensors per status that a collection shows: clusters' counts plus single sensors."""
    counts = dict.fromkeys(STATUSES, 0)
    for feature in collection["features"]:
        props = feature["properties"]
        if props.get("cluster"):
            for status, n in zip(STATUSES, props["c"], strict=True):
                counts[status] += n
        else:
            counts[STATUSES[props["s"]]] += 1
    return counts


@pytest.mark.parametrize("zoom", [8, 10, 10.7, 12, 14, 17, 18])
def test_the_whole_city_in_view_shows_every_sensor_once_at_any_zoom(zoom):
    sensors = city_sensors(3_000, critical=5)
    collection = index_of(sensors).features(CITY, zoom)
    assert shown_counts(collection) == {"normal": 2_995, "warning": 0, "critical": 5, "stale": 0}


def test_at_city_zoom_a_view_is_a_few_clusters_not_the_sensors():
    collection = index_of(city_sensors(50_000)).features(CITY, 10)
    assert 10 <= len(collection["features"]) <= 400
    assert all(f["properties"].get("cluster") for f in collection["features"])


def test_a_cluster_holding_one_critical_sensor_counts_it_and_bounds_its_sensors():
    sensors = city_sensors(2_000, critical=1)
    collection = index_of(sensors).features(CITY, 9)
    holding = [f["properties"] for f in collection["features"] if f["properties"].get("c", [0, 0, 0])[2]]
    assert len(holding) == 1 and holding[0]["c"][2] == 1
    south, west, north, east = holding[0]["b"]
    assert south <= sensors[0]["lat"] <= north and west <= sensors[0]["lon"] <= east


def test_past_the_last_clustered_zoom_the_view_holds_single_sensors_and_only_those_near_it():
    sensors = city_sensors(20_000)
    view = [[22.60, 114.00], [22.61, 114.01]]
    collection = index_of(sensors).features(view, 18)
    ids = {f["properties"]["id"] for f in collection["features"]}
    assert all(not f["properties"].get("cluster") for f in collection["features"])
    # a quarter view's margin on each side: a short pan shows no gap, but the rest of the city stays home
    near = {s["id"] for s in sensors if 22.5975 <= s["lat"] <= 22.6125 and 113.9975 <= s["lon"] <= 114.0125}
    assert ids == near


def test_a_dense_view_past_the_last_clustered_zoom_stays_clustered_rather_than_unbounded():
    sensors = [{"id": f"s-{i}", "lat": 22.6 + i * 1e-7, "lon": 114.0, "status": "normal"} for i in range(6_000)]
    collection = index_of(sensors).features([[22.5999, 113.9999], [22.6011, 114.0001]], 19, max_points=5_000)
    assert len(collection["features"]) < 100
    assert shown_counts(collection)["normal"] == 6_000


def test_walking_every_zoom_keeps_only_the_coarse_levels():
    # A client may ask for any zoom: street-level cells are a cell per sensor, so they are never kept.
    index = index_of(city_sensors(5_000))
    for zoom in range(0, 31):
        index.features(CITY, zoom)
    assert sorted(index._levels) == list(range(0, ClusterIndex.KEPT_ZOOM + 1))


def test_no_sensors_is_an_empty_collection():
    assert index_of([]).features(CITY, 10) == {"type": "FeatureCollection", "features": []}


@settings(max_examples=60, deadline=None)
@given(zoom=st.floats(0, 20), south=st.floats(22.3, 22.9), west=st.floats(113.6, 114.6),
       height=st.floats(0.001, 0.6), width=st.floats(0.001, 1.0))  # fmt: skip
def test_every_sensor_inside_the_view_is_in_exactly_one_feature(zoom, south, west, height, width):
    sensors = city_sensors(1_500, seed=3, critical=40)
    view = [[south, west], [south + height, west + width]]
    collection = index_of(sensors).features(view, zoom)
    inside = [s for s in sensors
              if south <= s["lat"] <= south + height and west <= s["lon"] <= west + width]  # fmt: skip
    single = {f["properties"]["id"] for f in collection["features"] if not f["properties"].get("cluster")}
    clustered = [f["properties"]["b"] for f in collection["features"] if f["properties"].get("cluster")]
    for s in inside:
        in_clusters = sum(b[0] <= s["lat"] <= b[2] and b[1] <= s["lon"] <= b[3] for b in clustered)
        assert s["id"] in single or in_clusters >= 1
    assert shown_counts(collection)["critical"] <= 40


@pytest.mark.parametrize(
    ("bounds", "zoom", "expected"),
    [
        ([[22.5, 113.9], [22.7, 114.2]], 11.3, ([[22.5, 113.9], [22.7, 114.2]], 11.3)),
        (None, None, (None, 0.0)),
        ("everything", 1e9, (None, 0.0)),
        ([[22.7, 113.9], [22.5, 114.2]], True, (None, 0.0)),  # south above north; a boolean is not a zoom
        ([[22.5, "x"], [22.7, 114.2]], -1, (None, 0.0)),
        ([[22.5, 113.9, 1], [22.7, 114.2]], 5, (None, 5.0)),
        ([[1e308, 113.9], [22.7, 114.2]], 5, (None, 5.0)),
    ],
)
def test_a_map_view_from_the_client_is_read_or_refused_as_the_whole_world(bounds, zoom, expected):
    assert map_view(bounds, zoom) == expected
