"""The city map: GCJ-02 conversion, the district file, and point-in-district lookups."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from geo.city import CityMap
from geo.gcj02 import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from geo.index import metres_per_degree

# (WGS-84 lon, lat) → (GCJ-02 lon, lat): the reference pairs of googollee/eviltransform's test suite.
REFERENCE_PAIRS = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]
IDS = {"futian", "luohu", "nanshan", "baoan", "longgang", "yantian", "longhua", "pingshan", "guangming"}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    kx, ky = metres_per_degree((a[1] + b[1]) / 2)
    return float(np.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * ky))


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE_PAIRS)
def test_gcj02_matches_reference_pairs(wgs, gcj):
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    assert _metres(gcj02_to_wgs84(*gcj), wgs) < 0.01


def test_gcj02_round_trip_is_sub_centimetre_across_shenzhen():
    rng = random.Random(7)
    for _ in range(2000):
        wgs = (rng.uniform(113.7, 114.7), rng.uniform(22.3, 22.9))
        assert _metres(gcj02_to_wgs84(*wgs84_to_gcj02(*wgs)), wgs) < 0.01


def test_gcj02_leaves_positions_outside_china_alone():
    assert out_of_china(-0.1276, 51.5072)
    assert gcj02_to_wgs84(-0.1276, 51.5072) == (-0.1276, 51.5072)
    assert wgs84_to_gcj02(-0.1276, 51.5072) == (-0.1276, 51.5072)


def test_district_file_is_small_valid_and_a_clean_coverage(settings):
    path = settings.districts_geojson
    assert path.stat().st_size < 300_000
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    assert {f["properties"]["id"] for f in features} == IDS
    for f in features:
        assert set(f["properties"]) == {"id", "name_en", "name_zh", "adcode"}
        assert f["properties"]["name_zh"].endswith("区")
    geometries = [shape(f["geometry"]) for f in features]
    assert all(g.is_valid for g in geometries)
    assert shapely.coverage_is_valid(geometries)


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (114.0596, 22.5431, "futian"),  # civic centre, Futian CBD
        (113.9305, 22.5329, "nanshan"),  # Shenzhen University / Nanshan tech park
        (114.1315, 22.5482, "luohu"),  # Luohu, east of Dongmen
        (113.8890, 22.5766, "baoan"),  # Bao'an centre
        (114.2468, 22.7206, "longgang"),
        (114.0249, 22.6545, "longhua"),
        (113.9360, 22.7470, "guangming"),
        (114.3470, 22.6920, "pingshan"),
        (114.2360, 22.5560, "yantian"),
        (114.17, 22.32, None),  # Kowloon, Hong Kong
        (113.75, 22.45, None),  # Pearl River estuary, open water
        (114.30, 22.50, None),  # Mirs Bay, open water
    ],
)
def test_known_points(city, lon, lat, expected):
    assert city.district_at(lon, lat) == expected


def test_a_shore_point_snaps_to_the_district_it_fronts(city, settings):
    shore = (113.955, 22.505)  # in Shenzhen Bay, ~200 m off Shenzhen Bay Park's sea wall
    assert not any(shapely.contains_xy(city.geometry(d.id), *shore) for d in city.districts)
    assert city.district_at(*shore) == "nanshan"
    strict = CityMap.from_geojson(settings.districts_geojson, snap_m=0)
    assert strict.district_at(*shore) is None
    assert strict.district_at(114.0596, 22.5431) == "futian"


def test_snapping_stops_at_snap_distance(settings):
    near = CityMap.from_geojson(settings.districts_geojson, snap_m=1000)
    wide = CityMap.from_geojson(settings.districts_geojson, snap_m=3000)
    offshore = (113.96, 22.485)  # ~2 km off the Nanshan shore, in the bay
    assert near.district_at(*offshore) is None
    assert wide.district_at(*offshore) == "nanshan"


def test_nan_and_far_away_positions_are_in_no_district(city):
    assert city.district_at(float("nan"), 22.5) is None
    assert city.district_at(0.0, 0.0) is None
    assert city.district_at(float("inf"), 22.5) is None


def test_batched_lookup_agrees_with_single_lookups(city):
    rng = np.random.default_rng(3)
    lons = rng.uniform(113.7, 114.7, 20_000)
    lats = rng.uniform(22.35, 22.9, 20_000)
    assert city.districts_at(lons, lats) == [
        city.district_at(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)
    ]


def test_normalize_district_accepts_ids_and_names(city):
    assert city.normalize_district("futian") == "futian"
    assert city.normalize_district("FUTIAN") == "futian"
    assert city.normalize_district("福田区") == "futian"
    assert city.normalize_district("福田") == "futian"
    assert city.normalize_district("Bao'an") == "baoan"
    assert city.normalize_district("bao'an district") == "baoan"
    assert city.normalize_district(" Nanshan ") == "nanshan"
    assert city.normalize_district("Kowloon") is None
    assert city.normalize_district("") is None
    assert {d.id for d in city.districts} == IDS


def test_random_points_are_inside_and_deterministic(city):
    first = [city.random_point_in("yantian", random.Random(5)) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    rng = random.Random(11)
    for district in city.districts:
        for _ in range(50):
            assert city.district_at(*city.random_point_in(district.id, rng)) == district.id


def test_configured_city_bounds_hold_every_district_and_its_snap_margin(city, settings):
    west, south, east, north = city.bounds
    assert 113.7 < west < east < 114.7 and 22.3 < south < north < 22.9
    kx, ky = metres_per_degree(south)
    dx, dy = settings.district_snap_m / kx, settings.district_snap_m / ky
    s_west, s_south, s_east, s_north = settings.city_bounds
    assert s_west <= west - dx and s_south <= south - dy and east + dx <= s_east and north + dy <= s_north
