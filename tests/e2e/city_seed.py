"""A small, deterministic city written straight through ``EventStore``, for the page tests to look at.

Sensors in every district (some warning, critical or stale), one device with a day of history, open and
closed complaints, and two data-centre sites sampled every five minutes for two days.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import bootstrap
from settings import Settings
from storage.event_store import Batch, EventStore
from streams.complaints import ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading

KINDS = (("air_quality", "pm25", "ug/m3", 20.0, 200.0), ("traffic", "speed_kmh", "km/h", 50.0, 5.0),
         ("noise", "laeq_db", "dB(A)", 60.0, 90.0))  # fmt: skip
HISTORY_DEVICE = "sz-aq-futian-history"
CATEGORIES = ("noise", "garbage", "road_damage", "illegal_parking")


@dataclass(frozen=True)
class SeededCity:
    """What was written, for the tests to check against."""

    sensors: int
    open_requests: list[str]
    history_device: str
    sites: tuple[str, ...]


def seed_city(settings: Settings, sensors: int = 400, seed: int = 7) -> SeededCity:
    """Write the city into ``settings``' schema; returns what a page should show."""
    rng, now = random.Random(seed), datetime.now(UTC).replace(microsecond=0)
    city = bootstrap.city_map(settings)
    districts = [d.id for d in city.districts]
    source = (f"seed-{n}" for n in itertools.count(1))
    readings = []
    for n in range(sensors):
        kind, metric, unit, normal, alarming = KINDS[n % len(KINDS)]
        district = districts[n % len(districts)]
        lon, lat = city.random_point_in(district, rng)
        value = alarming if n % 17 == 0 else normal * rng.uniform(0.9, 1.1)
        age = timedelta(hours=2) if n % 23 == 0 else timedelta(seconds=rng.uniform(1, 50))
        readings.append(SensorReading(now - age, f"sz-{kind}-{district}-{n:05d}", kind, metric, value, unit,
                                      lat, lon, district, None, next(source)))  # fmt: skip
    lon, lat = city.random_point_in("futian", rng)
    readings += [SensorReading(now - timedelta(minutes=10 * k), HISTORY_DEVICE, "air_quality", "pm25",
                               20.0 + k % 7, "ug/m3", lat, lon, "futian", None, next(source))
                 for k in range(144)]  # fmt: skip
    complaints, open_requests = [], []
    for n in range(120):
        district, category = districts[n % len(districts)], CATEGORIES[n % len(CATEGORIES)]
        opened = now - timedelta(hours=rng.uniform(1, 150))
        lon, lat = city.random_point_in(district, rng)
        event = dict(request_id=f"seed-req-{n:04d}", category=category, district=district, lat=lat, lon=lon,
                     channel="hotline", description=None, attrs=None)  # fmt: skip
        complaints.append(ComplaintEvent(ts=opened, status="open", satisfaction=None, source_id=next(source), **event))
        if n % 3:
            closed = min(opened + timedelta(hours=rng.uniform(0.5, 60)), now)
            complaints.append(ComplaintEvent(ts=closed, status="closed", satisfaction=1 + n % 5,
                                             source_id=next(source), **event))  # fmt: skip
        else:
            open_requests.append(event["request_id"])
    sites = ("dc-qianhai", "dc-pingshan")
    samples = [PowerSample(now - timedelta(minutes=5 * k), site, it * pue, it, 23.0 + (k % 12) / 4, 45.0, None,
                           next(source))
               for k in range(576) for site, it, pue in ((sites[0], 800.0, 1.25), (sites[1], 500.0, 1.4))]
    store = EventStore(bootstrap.db_connection(settings))
    try:
        store.write(Batch(readings=readings, complaints=complaints, samples=samples))
    finally:
        store.close()
    return SeededCity(sensors + 1, open_requests, HISTORY_DEVICE, sites)


_seeded: dict[tuple[str, str], SeededCity] = {}


def seeded_city(settings: Settings) -> SeededCity:
    """``seed_city`` once per schema, however many test modules ask."""
    key = (settings.database_url, settings.db_schema)
    if key not in _seeded:
        _seeded[key] = seed_city(settings)
    return _seeded[key]
