"""The simulated sensor estate: where each device stands and how its readings are made.

Placement is a pure function of the city map, the device count and the seed. Each device's fixed fields
(``device_id``, ``kind``, ``metric``, ``unit``, ``lat``, ``lon`` and, for about half of them, ``district``) are
rendered to strings once, so the hot generator only copies a dict and adds ``value`` and ``ts``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from geo.city import CityMap
from simulator.models import NOISE, PARTICULATE, POWER, TIDE, TRAFFIC

# Resident population by district, 2020 census, millions (approximate; Dapeng counted with Longgang).
POPULATION_M = {
    "baoan": 4.48, "longgang": 4.13, "longhua": 2.53, "nanshan": 1.80, "futian": 1.55,
    "luohu": 1.14, "guangming": 1.10, "pingshan": 0.55, "yantian": 0.21,
}  # fmt: skip

# kind → (share of devices, id prefix, [(metric, unit, model, decimals, lowest value)]).
KINDS: dict[str, tuple[float, str, list[tuple[str, str, int, int, float]]]] = {
    "traffic": (0.35, "tr", [("speed_kmh", "km/h", TRAFFIC, 1, 3.0)]),
    "air_quality": (0.20, "aq", [("pm25", "ug/m3", PARTICULATE, 1, 1.0), ("pm10", "ug/m3", PARTICULATE, 1, 2.0)]),
    "noise": (0.20, "ns", [("laeq_db", "dB(A)", NOISE, 1, 30.0)]),
    "water_level": (0.10, "wl", [("level_m", "m", TIDE, 2, 0.0)]),
    "power": (0.15, "pw", [("load_mw", "MW", POWER, 2, 0.1)]),
}
COORD_DECIMALS = 6


@dataclass(frozen=True, slots=True)
class Channel:
    """One metric of one device: ``value = a * factor[model] + b + jitter * (u - 0.5)``, at least ``lowest``."""

    device_id: str
    kind: str
    metric: str
    district: str
    fields: dict[str, str]
    model: int
    a: float
    b: float
    jitter: float
    lowest: float
    decimals: int
    iso_ts: bool

    def hot(self) -> tuple:
        """The tuple the hot loop unpacks (faster than attribute access)."""
        return (self.fields, self.model, self.a, self.b, self.jitter, self.lowest, f"%.{self.decimals}f", self.iso_ts)


def _coefficients(kind: str, rng: random.Random) -> tuple[float, float, float]:
    """(a, b, jitter) of a device's first metric.

    a is the free-flow speed, typical PM2.5 or peak load; b the daytime noise or mean water level.
    """
    if kind == "traffic":
        free_flow = rng.choice([50.0, 55.0, 60.0, 80.0, 90.0])  # arterials to expressways
        return free_flow * rng.uniform(0.9, 1.1), 0.0, free_flow * 0.12
    if kind == "air_quality":
        typical = rng.uniform(14.0, 28.0)  # Shenzhen's annual PM2.5 is about 18–20 ug/m3
        return typical, 0.0, typical * 0.15
    if kind == "noise":
        # Daytime levels of streets and squares: only the loudest touch the 70 dB(A) limit, mostly in rush hours.
        return 1.0, rng.uniform(55.0, 69.0), 3.0
    if kind == "water_level":
        # Tidal amplitude and mean level above the gauge datum: even a spring high tide stays under 2.0 m.
        return rng.uniform(0.15, 0.5), rng.uniform(0.5, 1.2), 0.04
    return rng.uniform(5.0, 60.0), 0.0, 0.8  # power: feeder / substation peak, MW


# The flood warning and danger levels above the gauge datum: the city's bands for river gauges
# (the water_level band of config/alert_rules.toml). An ordinary tide never reaches the first; a flood passes
# both.
WATER_WARNING_M = 2.0
WATER_DANGER_M = 2.8


def warning_level_m(channel: Channel) -> float:
    """A gauge's flood warning level (the same for every gauge: levels are measured above a common datum)."""
    return WATER_WARNING_M


def _place(city: CityMap, district: str, rng: random.Random) -> tuple[str, str]:
    """A position string pair in ``district`` that still falls in it after rounding."""
    while True:
        lon, lat = city.random_point_in(district, rng)
        lon, lat = round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS)
        if city.district_at(lon, lat) == district:
            return f"{lat:.{COORD_DECIMALS}f}", f"{lon:.{COORD_DECIMALS}f}"


def place_devices(city: CityMap, count: int, seed: int) -> list[Channel]:
    """``count`` devices spread over the districts (by population; water gauges by area), one channel per metric.

    Deterministic: the same city, count and seed give the same devices in the same order.
    """
    rng = random.Random(f"{seed}:devices")
    ids = [d.id for d in city.districts]
    by_people = [POPULATION_M.get(d, 1.0) for d in ids]
    by_area = [city.geometry(d).area for d in ids]
    kinds = list(KINDS)
    shares = [KINDS[k][0] for k in kinds]
    channels: list[Channel] = []
    for n in range(count):
        kind = kinds[n % len(kinds)] if n < len(kinds) else rng.choices(kinds, shares)[0]
        district = rng.choices(ids, by_area if kind == "water_level" else by_people)[0]
        lat, lon = _place(city, district, rng)
        _, prefix, metrics = KINDS[kind]
        device_id = f"sz-{prefix}-{district}-{n:05d}"
        with_district, iso_ts = rng.random() < 0.5, rng.random() < 0.5
        a, b, jitter = _coefficients(kind, rng)
        for metric, unit, model, decimals, lowest in metrics:
            if metric == "pm10":  # PM10 tracks the same device's PM2.5, as coarse dust adds to fine
                ratio = rng.uniform(1.5, 1.9)
                a, jitter = a * ratio, jitter * ratio
            fields = {"device_id": device_id, "kind": kind, "metric": metric, "unit": unit, "lat": lat, "lon": lon}
            if with_district:
                fields["district"] = district
            channels.append(
                Channel(device_id, kind, metric, district, fields, model, a, b, jitter, lowest, decimals, iso_ts)
            )
    return channels
