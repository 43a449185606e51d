"""The simulated sensor estate: where each device stands and how its readings are made.

Placement is a pure function of the city map, the city pack's simulator profile (device kinds, their shares,
placement and figures; the population of each district), the device count and the seed. Each device's fixed
fields (``device_id``, ``kind``, ``metric``, ``unit``, ``lat``, ``lon`` and, for about half of them,
``district``) are rendered to strings once, so the hot generator only copies a dict and adds ``value`` and ``ts``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cities.schema import Simulator
from geo.city import CityMap
from simulator.models import NOISE, PARTICULATE, POWER, TIDE, TRAFFIC
from simulator.shore import ShoreBands

# kind → (id prefix, [(metric, unit, model, decimals, lowest value)]): what the IOC knows a kind to measure.
# Which kinds a city has, how many and where, is its pack's (``[simulator.devices]``).
KINDS: dict[str, tuple[str, list[tuple[str, str, int, int, float]]]] = {
    "traffic": ("tr", [("speed_kmh", "km/h", TRAFFIC, 1, 3.0)]),
    "air_quality": ("aq", [("pm25", "ug/m3", PARTICULATE, 1, 1.0), ("pm10", "ug/m3", PARTICULATE, 1, 2.0)]),
    "noise": ("ns", [("laeq_db", "dB(A)", NOISE, 1, 30.0)]),
    "water_level": ("wl", [("level_m", "m", TIDE, 2, 0.0)]),
    "power": ("pw", [("load_mw", "MW", POWER, 2, 0.1)]),
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


def _coefficients(kind: str, figures: object, rng: random.Random) -> tuple[float, float, float]:
    """(a, b, jitter) of a device's first metric, from its kind's figures in the pack.

    a is the free-flow speed, typical PM2.5 or peak load; b the daytime noise or mean water level.
    """
    if kind == "traffic":
        free_flow = float(rng.choice(figures.free_flow_kmh))
        return free_flow * rng.uniform(0.9, 1.1), 0.0, free_flow * 0.12
    if kind == "air_quality":
        typical = rng.uniform(*figures.pm25_typical)
        return typical, 0.0, typical * 0.15
    if kind == "noise":
        return 1.0, rng.uniform(*figures.daytime_db), 3.0
    if kind == "water_level":
        return rng.uniform(*figures.tide_amplitude_m), rng.uniform(*figures.mean_level_m), 0.04
    return rng.uniform(*figures.peak_mw), 0.0, 0.8  # power: feeder / substation peak, MW


# The flood warning and danger levels above the gauge datum: the city's bands for river gauges
# (the water_level band of the alert rules). An ordinary tide never reaches the first; a flood passes both.
WATER_WARNING_M = 2.0
WATER_DANGER_M = 2.8


def warning_level_m(channel: Channel) -> float:
    """A gauge's flood warning level (the same for every gauge: levels are measured above a common datum)."""
    return WATER_WARNING_M


def _place(city: CityMap, district: str, rng: random.Random, shore: ShoreBands | None) -> tuple[str, str]:
    """A position string pair in ``district`` (near the shore when ``shore``) that still falls in it after rounding."""
    while True:
        lon, lat = shore.random_point_in(district, rng) if shore else city.random_point_in(district, rng)
        lon, lat = round(lon, COORD_DECIMALS), round(lat, COORD_DECIMALS)
        if city.district_at(lon, lat) == district:
            return f"{lat:.{COORD_DECIMALS}f}", f"{lon:.{COORD_DECIMALS}f}"


def place_devices(city: CityMap, count: int, seed: int, profile: Simulator) -> list[Channel]:
    """``count`` devices spread over the districts as the profile says, one channel per metric.

    Each kind is placed by ``people`` (district population), ``area`` or ``shore`` (length of the city's outline in
    the district, and then within a few hundred metres of it). Deterministic: the same city, profile, count and
    seed give the same devices in the same order.
    """
    rng = random.Random(f"{seed}:devices")
    ids = [d.id for d in city.districts]
    shore = ShoreBands(city) if any(k.placement == "shore" for k in profile.devices.kinds().values()) else None
    weights = {
        "people": [profile.population.get(d, 1.0) for d in ids],
        "area": [city.geometry(d).area for d in ids],
        "shore": shore.weights(ids) if shore else [],
    }
    figures = profile.devices.kinds()
    kinds = list(figures)
    shares = [figures[k].share for k in kinds]
    channels: list[Channel] = []
    for n in range(count):
        kind = kinds[n % len(kinds)] if n < len(kinds) else rng.choices(kinds, shares)[0]
        placement = figures[kind].placement
        district = rng.choices(ids, weights[placement])[0]
        lat, lon = _place(city, district, rng, shore if placement == "shore" else None)
        prefix, metrics = KINDS[kind]
        device_id = f"{profile.device_prefix}-{prefix}-{district}-{n:05d}"
        with_district, iso_ts = rng.random() < 0.5, rng.random() < 0.5
        a, b, jitter = _coefficients(kind, figures[kind], rng)
        for metric, unit, model, decimals, lowest in metrics:
            if metric == "pm10":  # PM10 tracks the same device's PM2.5, as coarse dust adds to fine
                ratio = rng.uniform(*figures[kind].pm10_ratio)
                a, jitter = a * ratio, jitter * ratio
            fields = {"device_id": device_id, "kind": kind, "metric": metric, "unit": unit, "lat": lat, "lon": lon}
            if with_district:
                fields["district"] = district
            channels.append(
                Channel(device_id, kind, metric, district, fields, model, a, b, jitter, lowest, decimals, iso_ts)
            )
    return channels
