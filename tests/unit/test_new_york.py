"""The New York City pack: its 59 community districts, which district a position falls in (as the ingest asks),
and a simulated New York whose devices, gauges, requests and clock are New York's."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import pytest
import shapely
from shapely.geometry import shape

import bootstrap
from alerts.evaluate import Evaluator
from alerts.rules import load_rules
from cities import load_city
from geo.city import CityMap
from live.thresholds import CRITICAL, WARNING
from settings import Settings
from simulator.engine import CitySimulation, SimConfig
from streams.complaints import parse_complaint
from streams.datacenter import parse_power_sample
from streams.fields import InvalidEvent, ParseContext
from streams.iot import SensorReading, parse_reading
from tests.unit.test_simulator_history import status_shares

PACK = load_city("new-york")
PARSERS = {"iot": parse_reading, "complaints": parse_complaint, "datacenter": parse_power_sample}


@pytest.fixture(scope="module")
def nyc() -> CityMap:
    return CityMap.from_geojson(PACK.districts_path, snap_m=1000.0)


@pytest.fixture(scope="module")
def nyc_ctx(nyc) -> ParseContext:
    return ParseContext(city=nyc, bounds=PACK.bounds, max_field_bytes=4096, max_future_skew_ms=300_000,
                        max_entry_fields=64, max_entry_bytes=16_384)  # fmt: skip


def test_the_59_community_districts_are_a_small_clean_coverage():
    features = json.loads(PACK.districts_path.read_text(encoding="utf-8"))["features"]
    ids = [f["properties"]["id"] for f in features]
    assert len(ids) == len(set(ids)) == 59
    assert Counter(i[:2] for i in ids) == {"mn": 12, "bx": 12, "bk": 18, "qn": 14, "si": 3}
    geometries = [shape(f["geometry"]) for f in features]
    assert all(g.is_valid for g in geometries) and shapely.coverage_is_valid(geometries)
    assert PACK.districts_path.stat().st_size < 300_000


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (-73.9855, 40.7580, "mn05"),  # Times Square, Midtown
        (-74.0060, 40.7128, "mn01"),  # City Hall, Financial District
        (-73.9500, 40.8100, "mn10"),  # the Apollo, Central Harlem
        (-73.9654, 40.7829, "mn07"),  # Central Park (no district of its own): the nearest within 1 km
        (-73.9262, 40.8296, "bx04"),  # Yankee Stadium, Highbridge/Concourse
        (-73.9903, 40.6925, "bk02"),  # Brooklyn Borough Hall, Downtown Brooklyn
        (-73.9790, 40.5740, "bk13"),  # Coney Island
        (-73.8300, 40.7596, "qn07"),  # Flushing, Main Street
        (-73.8010, 40.7027, "qn12"),  # Jamaica Center
        (-74.0736, 40.6437, "si01"),  # St. George ferry terminal
        (-74.0324, 40.7440, None),  # Hoboken, across the Hudson in New Jersey
        (-74.1724, 40.7357, None),  # Newark
        (-73.6187, 40.7062, None),  # Hempstead, Nassau County
        (-73.7781, 40.6413, None),  # JFK airport: a joint interest area, farther than 1 km from any district
    ],
)
def test_known_places_fall_in_their_community_district(nyc, lon, lat, expected):
    assert nyc.district_at(lon, lat) == expected


def test_names_and_codes_normalise_to_the_district_id(nyc):
    assert nyc.normalize_district("Brooklyn CD 1") == "bk01"
    assert nyc.normalize_district("301") == "bk01"  # boro_cd, as NYC's own data writes it
    assert nyc.normalize_district("BK01") == "bk01"
    assert nyc.normalize_district("Gotham CD 1") is None


def _sim(nyc: CityMap, **changes) -> CitySimulation:
    config = dict(seed=11, sensors=600, readings_per_s=200.0, complaints_per_hour=1500.0, datacenter_sites=4,
                  scheduled_incidents=False, pack=PACK)  # fmt: skip
    return CitySimulation(nyc, SimConfig(**config | changes))


def test_every_device_stands_in_its_district_and_gauges_stand_on_the_waterfront(nyc):
    sim = _sim(nyc)
    assert {c.kind for c in sim.channels} == {"traffic", "air_quality", "noise", "water_level", "power"}
    for channel in sim.channels:
        lat, lon = float(channel.fields["lat"]), float(channel.fields["lon"])
        assert nyc.district_at(lon, lat) == channel.district
        assert channel.device_id.startswith("nyc-")
    outline = shapely.union_all([nyc.geometry(d.id) for d in nyc.districts]).boundary
    gauges = [c for c in sim.channels if c.kind == "water_level"]
    far = [c.device_id for c in gauges
           if outline.distance(shapely.Point(float(c.fields["lon"]), float(c.fields["lat"]))) > 0.0035]  # fmt: skip
    assert gauges and not far, f"gauges away from the water: {far[:5]}"
    assert len({c.district for c in gauges}) > 20  # spread along the whole waterfront, not in one place


def test_a_new_york_day_keeps_the_contract_in_new_yorks_time(nyc, nyc_ctx):
    sim = _sim(nyc)
    start = sim.clock.day_start_ms(date(2026, 7, 14))  # a summer Tuesday: EDT, UTC-04:00
    nine = start + 9 * 3_600_000
    events = [e for t in range(nine, nine + 3_600_000, 60_000) for e in sim.window(t, t + 60_000)]
    entry = f"{start + 11 * 3_600_000}-0".encode()
    kinds = Counter()
    for kind, fields in events:
        try:
            PARSERS[kind]({k.encode(): v.encode() for k, v in fields.items()}, entry, nyc_ctx)
        except InvalidEvent as refused:
            pytest.fail(f"{kind} {fields} refused: {refused}")
        kinds[kind] += 1
    assert min(kinds.values()) > 0
    complaints = [f for k, f in events if k == "complaints"]
    assert {f["category"] for f in complaints} <= {c.name for c in PACK.file.simulator.complaints}
    assert all(f["request_id"].startswith("NYC") for f in complaints)
    assert all(f["ts"].endswith("-04:00") for f in complaints)
    assert datetime.fromisoformat(complaints[0]["ts"]).hour == 9  # filed in the 9 o'clock hour, local time
    assert {f["site"] for k, f in events if k == "datacenter"} <= set(PACK.file.simulator.datacenters.sites)


def test_winter_days_are_eastern_standard_time(nyc):
    sim = _sim(nyc)
    start = sim.clock.day_start_ms(date(2026, 1, 13))
    assert sim.clock.iso_local(start) == "2026-01-13T00:00:00.000-05:00"
    assert sim.clock.day_start_ms(date(2026, 3, 9)) - sim.clock.day_start_ms(date(2026, 3, 8)) == 23 * 3_600_000


def test_a_flood_brings_sewer_complaints_in_its_district(nyc):
    sim = _sim(nyc)
    start = sim.clock.day_start_ms(date(2026, 8, 20)) + 14 * 3_600_000
    flood = sim.trigger("flood", start)
    district = flood.target.split("-")[2]  # a gauge's id: nyc-wl-<district>-<n>
    events = [e for t in range(start, start + 3 * 3_600_000, 60_000) for e in sim.window(t, t + 60_000)]
    sewer = [f for k, f in events if k == "complaints" and f["category"] == "sewer" and f["status"] == "open"]
    assert sum(f["district"] in (district, PACK.district_name(district)) for f in sewer) > 20


@pytest.mark.parametrize("first_day", [date(2026, 1, 13), date(2026, 7, 18)])  # a winter weekday, a summer weekend
def test_an_ordinary_new_york_day_is_green_by_its_own_bands(nyc, first_day):
    bands = bootstrap.status_bands(Settings(city="new-york"))  # the pack's rules: US EPA particle bands
    total, worst_warning, worst_critical = status_shares(_sim(nyc, sensors=2000), first_day, 1, 30, bands)
    devices = sum(total.values())
    assert total[WARNING] / devices <= 0.02 and worst_warning <= 0.05
    assert total[CRITICAL] == 0 and worst_critical == 0


# --- the pack's forecast and anomaly rules -------------------------------------------------------------------------
def _rules() -> dict:
    return {r.id: r for r in load_rules(Settings(city="new-york").alert_rules_file)}


def test_the_pack_warns_before_the_levels_it_alerts_on_and_watches_traffic_against_its_usual():
    rules = _rules()
    water, pm25 = rules["water_level_forecast"], rules["pm25_district_forecast"]
    assert (water.type, water.subject, water.op) == ("forecast", "device", ">=")
    assert water.threshold == rules["band_water_level_level_m"].threshold  # the band's critical level, 2.8 m
    assert (pm25.type, pm25.subject, pm25.op) == ("forecast", "district", ">")
    assert pm25.threshold == rules["pm25_district_high"].threshold == 55.5  # EPA "unhealthy", not Shenzhen's 150
    slow = rules["traffic_district_slow"]
    assert (slow.type, slow.subject, slow.direction, slow.metric) == ("anomaly", "district", "below", "speed_kmh")


def _judge(sim: CitySimulation, start_ms: int, minutes: int, rule_ids: set[str]) -> tuple[list, dict[str, float]]:
    """The simulated city's readings from ``start_ms`` through an evaluator of the pack's ``rule_ids``, ticking every
    10 s: the conditions raised, with their time (epoch s), and when each gauge first read 2.8 m or more."""
    ev = Evaluator([r for r in _rules().values() if r.id in rule_ids], started=start_ms / 1000)
    raised, reached = [], {}
    for ms in range(start_ms, start_ms + minutes * 60_000, 10_000):
        values, _ = sim.window_values(ms, ms + 10_000)
        readings = [_reading(sim.channels[i], ts, v) for i, ts, v in values
                    if sim.channels[i].kind in ("water_level", "air_quality")]  # fmt: skip
        for r in readings:
            if r.metric == "level_m" and r.value >= 2.8:
                reached.setdefault(r.device_id, r.ts.timestamp())
        now = (ms + 10_000) / 1000
        raised += [(now, c) for c in ev.observe("iot", readings, now) + ev.tick(now)]
    return raised, reached


def _reading(channel, ts_ms: int, value: float) -> SensorReading:
    return SensorReading(datetime.fromtimestamp(ts_ms / 1000, UTC), channel.device_id, channel.kind, channel.metric,
                         value, "", 0.0, 0.0, channel.district, None, "0-0")  # fmt: skip


def test_a_new_york_flood_is_forecast_well_before_its_gauge_reaches_the_danger_level_and_tides_never_are(nyc):
    sim = _sim(nyc, readings_per_s=60.0)  # 0.1 readings a second per device, the live cadence
    start = sim.clock.day_start_ms(date(2026, 8, 20)) + 14 * 3_600_000
    flood = sim.trigger("flood", start + 3_600_000)  # an hour of ordinary tides first: the windows fill
    raised, reached = _judge(sim, start, 60 + 40, {"water_level_forecast", "pm25_district_forecast"})
    firing = [(t, c) for t, c in raised if c.firing]
    assert {c.subject for _, c in firing} == {flood.target}  # no other gauge, no district's air
    assert set(reached) == {flood.target}  # and only the flooded gauge got to 2.8 m
    warned, alert = firing[0]
    assert reached[flood.target] - warned >= 10 * 60  # the issue's target: ten minutes' lead on a river flood
    assert alert.prediction is not None and alert.prediction.expected > warned
