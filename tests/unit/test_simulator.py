"""The simulated city: deterministic, inside the districts, on contract, with a believable day and incidents."""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from datetime import date, datetime

import pytest

from cities import load_city
from simulator import incidents
from simulator.clock import DEFAULT_CLOCK, HOUR_MS, day_start_ms, local_day, local_hour
from simulator.complaints import life_cycle, satisfied_share
from simulator.devices import KINDS, WATER_DANGER_M, warning_level_m
from simulator.engine import CitySimulation, SimConfig
from streams.complaints import parse_complaint
from streams.datacenter import parse_power_sample
from streams.fields import InvalidEvent
from streams.iot import parse_reading

WEEKDAY = date(2026, 11, 24)  # a Tuesday
T0 = day_start_ms(WEEKDAY)
SHENZHEN = load_city("shenzhen").file.simulator
CATEGORIES = tuple(SHENZHEN.complaints)
PARSERS = {"iot": parse_reading, "complaints": parse_complaint, "datacenter": parse_power_sample}
UNITS = {metric: unit for _, metrics in KINDS.values() for metric, unit, *_ in metrics}


def make(city, **changes) -> CitySimulation:
    config = dict(seed=42, sensors=300, readings_per_s=50.0, complaints_per_hour=600.0, datacenter_sites=4,
                  scheduled_incidents=False)  # fmt: skip
    config.update(changes)
    return CitySimulation(city, SimConfig(**config))


def run(sim: CitySimulation, start: int, end: int, step: int, rate: float | None = None) -> list:
    return [e for t in range(start, end, step) for e in sim.window(t, min(t + step, end), rate)]


def ts_ms(raw: str) -> int:
    return int(raw) if raw.isdigit() else int(datetime.fromisoformat(raw).timestamp() * 1000)


def test_same_seed_same_city_and_same_events(city):
    a, b, other = make(city), make(city), make(city, seed=43)
    assert [c.fields for c in a.channels] == [c.fields for c in b.channels]
    assert [c.fields for c in a.channels] != [c.fields for c in other.channels]
    assert run(a, T0, T0 + HOUR_MS // 2, 60_000) == run(b, T0, T0 + HOUR_MS // 2, 60_000)


def test_every_device_stands_in_its_district(city):
    sim = make(city, sensors=2000)
    assert {c.kind for c in sim.channels} == set(KINDS)
    for channel in sim.channels:
        lat, lon = float(channel.fields["lat"]), float(channel.fields["lon"])
        assert city.district_at(lon, lat) == channel.district
        assert channel.fields.get("district", channel.district) == channel.district


def test_every_event_keeps_the_contract(city, ctx):
    sim = make(city, readings_per_s=5.0)
    seen: dict[str, list[dict]] = defaultdict(list)
    for start in range(T0, T0 + 6 * HOUR_MS, 60_000):
        entry_id = f"{start + 60_000}-0".encode()
        for kind, fields in sim.window(start, start + 60_000):
            assert all(isinstance(v, str) for v in fields.values())
            PARSERS[kind]({k.encode(): v.encode() for k, v in fields.items()}, entry_id, ctx)
            seen[kind].append(fields)
    readings = seen["iot"]
    assert len(readings) == 6 * 3600 * 5
    for r in readings:
        assert (
            {"device_id", "kind", "metric", "value", "unit", "lat", "lon", "ts"}
            <= set(r)
            <= {"device_id", "kind", "metric", "value", "unit", "lat", "lon", "ts", "district"}
        )
        assert r["unit"] == UNITS[r["metric"]] and math.isfinite(float(r["value"]))
    assert 0.35 < sum("district" in r for r in readings) / len(readings) < 0.65
    assert 0.35 < sum(r["ts"].endswith("+08:00") for r in readings) / len(readings) < 0.65
    assert {s["site"] for s in seen["datacenter"]} == {s.site for s in sim.sites}
    for s in seen["datacenter"]:
        assert 1.15 < float(s["facility_kw"]) / float(s["it_kw"]) < 1.4
    assert {"open", "in_progress", "closed"} == {c["status"] for c in seen["complaints"]}
    assert all(("satisfaction" in c) == (c["status"] == "closed") for c in seen["complaints"])


def test_a_request_moves_forward_in_time(city):
    rng = random.Random(1)
    place = {"district": "futian", "lat": "22.5431", "lon": "114.0596", "channel": "app"}
    for category in CATEGORIES:
        events = life_cycle("SZ-1", T0, category, place, rng)
        assert [f["status"] for _, f in events][0] == "open" and events[-1][1]["status"] == "closed"
        assert [ms for ms, _ in events] == sorted(ms for ms, _ in events)
        assert {f["request_id"] for _, f in events} == {"SZ-1"}


def test_nine_in_ten_and_more_are_satisfied():
    rng = random.Random(2)
    place = {"district": "futian", "lat": "22.5431", "lon": "114.0596", "channel": "app"}
    scores = [int(life_cycle("r", T0, c, place, rng)[-1][1]["satisfaction"]) for c in CATEGORIES * 2000]
    assert satisfied_share(scores) > 0.99  # satisfied: a rating of 3 or more
    assert statistics.mean(scores) > 4.5


def _mean(sim, metric: str, hour: float) -> float:
    start = T0 + int(hour * HOUR_MS)
    values = [float(f["value"]) for k, f in sim.window(start, start + 20_000, 2000.0) if f.get("metric") == metric]
    return statistics.mean(values)


def test_the_day_has_a_shape(city):
    sim = make(city, sensors=1000)
    assert _mean(sim, "speed_kmh", 8.0) < 0.7 * _mean(sim, "speed_kmh", 3.0)  # morning rush
    assert _mean(sim, "speed_kmh", 18.0) < 0.7 * _mean(sim, "speed_kmh", 3.0)  # evening rush
    assert _mean(sim, "pm25", 8.5) > _mean(sim, "pm25", 15.0)  # morning peak, clean afternoon
    assert _mean(sim, "laeq_db", 14.0) > _mean(sim, "laeq_db", 3.0) + 8
    fresh = make(city)  # the complaint desk only moves forward in time
    opened = [f for k, f in run(fresh, T0, T0 + 24 * HOUR_MS, 600_000, 0.01) if f.get("status") == "open"]
    by_hour = defaultdict(int)
    for f in opened:
        by_hour[int(local_hour(ts_ms(f["ts"])))] += 1
    assert sum(by_hour[h] for h in range(9, 17)) > 5 * sum(by_hour[h] for h in range(0, 6))  # day vs small hours


def _incident_run(city, text: str, hours: float = 3.0, **changes):
    sim = make(city, sensors=40, readings_per_s=10.0, **changes)
    incident = sim.trigger(text, T0 + 10 * HOUR_MS)
    events = run(sim, incident.start_ms, incident.start_ms + int(hours * HOUR_MS), 60_000)
    return sim, incident, events


def test_flood_rises_past_the_warning_and_danger_levels_within_30_minutes(city):
    sim, flood, events = _incident_run(city, "flood")
    gauge = next(c for c in sim.channels if c.device_id == flood.target)
    levels = [(ts_ms(f["ts"]), float(f["value"])) for k, f in events if f.get("device_id") == flood.target]
    assert max(v for ms, v in levels if ms < flood.start_ms + 5 * 60_000) < warning_level_m(gauge)
    assert min(
        v for ms, v in levels if flood.start_ms + 35 * 60_000 < ms < flood.start_ms + 85 * 60_000
    ) > WATER_DANGER_M
    assert any(f.get("category") == "waterlogging" for k, f in events)


def test_air_spike_crosses_heavy_pollution_in_one_district(city):
    sim, spike, events = _incident_run(city, "air")
    district = {c.device_id: c.district for c in sim.channels}
    hold = [
        f
        for k, f in events
        if f.get("metric") == "pm25" and spike.start_ms + 25 * 60_000 < ts_ms(f["ts"]) < spike.start_ms + 130 * 60_000
    ]
    inside = [float(f["value"]) for f in hold if district[f["device_id"]] == spike.target]
    outside = [float(f["value"]) for f in hold if district[f["device_id"]] != spike.target]
    assert inside and min(inside) > incidents.PM25_HEAVY
    assert outside and max(outside) < incidents.PM25_HEAVY


def test_cooling_failure_drives_pue_past_the_alarm_and_back(city):
    sim, failure, events = _incident_run(city, "cooling:dc-guangming", hours=2.0)

    def pue(lo_min: int, hi_min: int) -> list[float]:
        return [
            float(f["facility_kw"]) / float(f["it_kw"])
            for k, f in events
            if k == "datacenter"
            and f["site"] == "dc-guangming"
            and lo_min * 60_000 <= int(f["ts"]) - failure.start_ms < hi_min * 60_000
        ]

    assert min(pue(12, 48)) > incidents.PUE_ALARM
    assert max(pue(72, 120)) < 1.4
    hot = [float(f["inlet_temp_c"]) for k, f in events if k == "datacenter" and f["site"] == "dc-guangming"]
    assert max(hot) > 32


def test_incident_schedule_is_seeded_and_seasonal():
    targets = {"flood": ["g1", "g2"], "air": ["futian", "nanshan"], "cooling": ["dc-a"]}
    year = [date.fromordinal(date(2026, 1, 1).toordinal() + d) for d in range(365)]
    first = [incidents.scheduled_on(d, 1, targets, SHENZHEN.incidents, DEFAULT_CLOCK) for d in year]
    assert first == [incidents.scheduled_on(d, 1, targets, SHENZHEN.incidents, DEFAULT_CLOCK) for d in year]
    floods = [i for day in first for i in day if i.kind == "flood"]
    rainy = SHENZHEN.incidents.flood.season_months
    assert sum(local_day(i.start_ms).month in rainy for i in floods) > 0.8 * len(floods)
    assert {i.kind for day in first for i in day} == set(incidents.KINDS)
    with pytest.raises(ValueError, match="unknown incident"):
        incidents.parse_trigger("earthquake")


def test_malformed_entries_are_all_rejected(city, ctx):
    sim = make(city, malformed_rate=1.0, readings_per_s=10.0)
    events = run(sim, T0 + 10 * HOUR_MS, T0 + 11 * HOUR_MS, 60_000)
    codes = defaultdict(int)
    for kind, fields in events:
        with pytest.raises(InvalidEvent) as refused:
            PARSERS[kind]({k.encode(): v.encode() for k, v in fields.items()}, f"{T0 + 12 * HOUR_MS}-0".encode(), ctx)
        codes[refused.value.code] += 1
    assert {"missing", "not_finite", "outside_city", "bad_value", "too_large"} <= set(codes)
