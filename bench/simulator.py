"""District lookup and simulated-event generation, each beside a baseline measured in the same run.

    .venv/bin/python bench/simulator.py

* district lookup: ``CityMap.district_at`` (grid index, then cache) against a naive test of the point in every
  district polygon with shapely;
* generation: the simulator's pure event generation against how fast Redis takes pipelined XADDs of the same
  events (generation must never be what limits a benchmark pre-fill or a backfill).
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from pathlib import Path

import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
from geo.city import CityMap  # noqa: E402
from settings import Settings  # noqa: E402
from simulator.engine import CitySimulation, SimConfig  # noqa: E402
from simulator.publisher import publish  # noqa: E402
from streams.shards import Shards  # noqa: E402


def lookups(settings: Settings) -> None:
    city = CityMap.from_geojson(settings.districts_geojson, cache_size=1_000_000)
    rng = random.Random(1)
    points = [tuple(round(v, 6) for v in city.random_point_in(d.id, rng)) for d in city.districts for _ in range(3000)]
    geometries = [city.geometry(d.id) for d in city.districts]
    for geometry in geometries:
        shapely.prepare(geometry)
    start = time.perf_counter()
    for lon, lat in points:
        next((i for i, g in enumerate(geometries) if shapely.contains_xy(g, lon, lat)), None)
    naive = (time.perf_counter() - start) / len(points) * 1e6
    timings = []
    for _ in range(2):  # the first pass is cold, the second is served by the cache
        start = time.perf_counter()
        for lon, lat in points:
            city.district_at(lon, lat)
        timings.append((time.perf_counter() - start) / len(points) * 1e6)
    print(f"district lookup, µs per point: naive shapely {naive:.2f}; grid index cold {timings[0]:.2f} "
          f"({naive / timings[0]:.1f}x faster), cached {timings[1]:.3f} ({naive / timings[1]:.0f}x faster)")


def generation(settings: Settings) -> None:
    city = bootstrap.city_map(settings)
    sim = CitySimulation(city, SimConfig(seed=7, sensors=2000, readings_per_s=150_000.0, complaints_per_hour=600.0,
                                         datacenter_sites=4))
    t0 = int(time.time() * 1000) - 3_600_000
    start = time.perf_counter()
    events = [e for n in range(3) for e in sim.window(t0 + n * 1000, t0 + (n + 1) * 1000, 150_000.0)]
    generated = len(events) / (time.perf_counter() - start)
    client = bootstrap.redis_client(settings)
    tag = uuid.uuid4().hex[:8]
    streams = {kind: f"bench{tag}:{kind}" for kind in ("iot", "complaints", "datacenter")}
    start = time.perf_counter()
    publish(client, Shards(streams), events)
    published = len(events) / (time.perf_counter() - start)
    client.delete(*streams.values())
    print(f"simulated events/s: generation {generated:,.0f}; pipelined XADD of the same {published:,.0f} "
          f"(generation is {generated / published:.1f}x the rate Redis takes them)")


if __name__ == "__main__":
    lookups(Settings())
    generation(Settings())
