"""A small deterministic city fed through the real streams, for the live-view browser tests.

Sensors in every district with fixed values (a few in warning or critical, a few silent, hence stale), a
backfill of the last half hour and the same half hour yesterday (so trends have something to compare),
complaints over the last day, and data-centre samples for two days. ``Feeder`` then keeps the sensors and
sites reporting until stopped, the way live feeds do.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

import redis

from settings import Settings

MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
# kind, id prefix, metric, unit, normal value, alarming value (critical)
KINDS = (("air_quality", "aq", "pm25", "ug/m3", 32.0, 140.0), ("traffic", "tr", "speed_kmh", "km/h", 46.0, 6.0),
         ("noise", "ns", "laeq_db", "dB(A)", 58.0, 88.0), ("water_level", "wl", "level_m", "m", 1.1, 3.1),
         ("power", "pw", "load_mw", "MW", 31.0, 31.0))  # fmt: skip
CATEGORIES = ("noise", "garbage", "illegal_parking", "road_damage", "public_security")
SITES = (("dc-qianhai", 820.0, 1.24), ("dc-pingshan", 540.0, 1.41), ("dc-longgang", 360.0, 1.33))


@dataclass(frozen=True)
class Device:
    """One simulated sensor and the one value it keeps reporting."""

    device_id: str
    kind: str
    metric: str
    unit: str
    value: float
    lat: float
    lon: float
    silent: bool  # reported only in the backfill an hour ago, so it shows as stale

    def fields(self, ts_ms: int, value: float | None = None) -> dict[str, str]:
        return {"device_id": self.device_id, "kind": self.kind, "metric": self.metric,
                "value": f"{self.value if value is None else value:g}", "unit": self.unit,
                "lat": f"{self.lat:.6f}", "lon": f"{self.lon:.6f}", "ts": str(ts_ms)}  # fmt: skip


def make_devices(city, count: int = 72, seed: int = 7) -> list[Device]:
    """``count`` devices spread over the districts; every 11th critical, every 7th warning, every 13th silent."""
    rng, districts = random.Random(seed), [d.id for d in city.districts]
    devices = []
    for n in range(count):
        kind, prefix, metric, unit, normal, alarming = KINDS[n % len(KINDS)]
        lon, lat = city.random_point_in(districts[n % len(districts)], rng)
        value = alarming if n % 11 == 5 else (normal + alarming) / 2 if n % 7 == 3 else normal
        devices.append(Device(f"{prefix}-{n:04d}", kind, metric, unit, round(value, 2), lat, lon, n % 13 == 12))
    return devices


def _xadd_all(client: redis.Redis, stream: str, entries: list[dict[str, str]]) -> None:
    pipe = client.pipeline(transaction=False)
    for fields in entries:
        pipe.xadd(stream, fields)
    pipe.execute()


def complaint_events(city, now_ms: int, seed: int = 11, requests: int = 160) -> list[dict[str, str]]:
    """Requests opened over the last 30 hours; most taken in hand, many closed with a rating, some still open."""
    rng, districts, events = random.Random(seed), [d.id for d in city.districts], []
    for n in range(requests):
        district = districts[n % len(districts)]
        lon, lat = city.random_point_in(district, rng)
        base = {"request_id": f"rq-{n:05d}", "category": CATEGORIES[n % len(CATEGORIES)], "district": district,
                "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "channel": ("app", "hotline", "wechat", "web")[n % 4]}
        opened = now_ms - int(rng.uniform(0.05, 30) * HOUR_MS)
        steps = [(opened, "open", None), (opened + int(0.4 * HOUR_MS), "in_progress", None),
                 (opened + int(rng.uniform(1, 40) * HOUR_MS), "closed", 1 + (n * 7) % 5)]  # fmt: skip
        for ts, status, rating in steps:
            if ts <= now_ms:
                rated = {"satisfaction": str(rating)} if rating else {}
                events.append(base | {"status": status, "ts": str(ts)} | rated)
    return events


def site_samples(at_ms: int, wobble: float = 0.0) -> list[dict[str, str]]:
    """One power sample per site at ``at_ms``."""
    return [{"site": site, "facility_kw": f"{it * (pue + wobble):.1f}", "it_kw": f"{it:.1f}",
             "inlet_temp_c": "24.5", "humidity_pct": "48", "ts": str(at_ms)} for site, it, pue in SITES]  # fmt: skip


def backfill(client: redis.Redis, settings: Settings, devices: list[Device], now_ms: int, city) -> None:
    """Half an hour of readings now and yesterday, a day of complaints, two days of site samples."""
    for day in (0, DAY_MS):
        for step in range(30, 0, -1):
            at = now_ms - day - step * MINUTE_MS
            _xadd_all(client, settings.stream_iot,
                      [d.fields(at) for d in devices if not d.silent or step > 20 or day])  # fmt: skip
    _xadd_all(client, settings.stream_complaints, complaint_events(city, now_ms))
    samples = []
    for step in range(48 * 60, 0, -2):
        samples += site_samples(now_ms - step * MINUTE_MS, wobble=0.04 if step > 24 * 60 else 0.0)
    _xadd_all(client, settings.stream_datacenter, samples)


class Feeder(threading.Thread):
    """Keeps every non-silent device and every site reporting every ``period_s`` until paused or stopped."""

    def __init__(self, client: redis.Redis, settings: Settings, devices: list[Device], period_s: float = 1.0) -> None:
        super().__init__(name="e2e-feeder", daemon=True)
        self.client, self.settings, self.devices, self.period_s = client, settings, devices, period_s
        self.running = threading.Event()
        self._stopping = threading.Event()
        self.running.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            if self.running.is_set():
                now = int(time.time() * 1000)
                _xadd_all(self.client, self.settings.stream_iot, [d.fields(now) for d in self.devices if not d.silent])
                _xadd_all(self.client, self.settings.stream_datacenter, site_samples(now))
            self._stopping.wait(self.period_s)

    def stop(self) -> None:
        self._stopping.set()
