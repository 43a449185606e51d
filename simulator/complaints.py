"""Citizens' service requests (Shenzhen's 12345 hotline, New York's 311), as Open311-style life cycles.

A request is filed (``open``), usually taken by a department (``in_progress``) and later ``closed`` with the
citizen's rating. Arrivals follow a daily curve that peaks mid-morning and mid-afternoon (a non-homogeneous
Poisson process drawn by thinning, so the arrivals do not depend on how time is cut into windows); each
request's later events are scheduled at filing and released when their time comes. What citizens report, how
often, through which channels and from where is the city pack's (``[[simulator.complaints]]``, ``channels``,
``population``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence

from cities.schema import Category, Simulator
from geo.city import CityMap
from simulator.clock import DEFAULT_CLOCK, HOUR_MS, CityClock
from simulator.models import bump

MINUTE_MS = 60_000
# The citizen's rating at closing: 99.2 % give 3 or more, which the IOC counts as satisfied.
SATISFACTION = ((5, 0.800), (4, 0.155), (3, 0.037), (2, 0.005), (1, 0.003))
SATISFIED_FROM = 3
IN_PROGRESS_SHARE = 0.85
DESCRIBED_SHARE = 0.7


def _daily_shape(hour: float) -> float:
    return 0.05 + max(bump(hour, 10.0, 1.6), 0.9 * bump(hour, 15.5, 1.8)) + 0.15 * bump(hour, 20.5, 1.5)


_PEAK = max(_daily_shape(h / 10) for h in range(240))


def arrival_factor(hour: float) -> float:
    """New requests per hour relative to the daily peak (1.0 about 10:00; ~0.05 at 04:00)."""
    return _daily_shape(hour) / _PEAK


def life_cycle(
    request_id: str,
    opened_ms: int,
    category: Category,
    place: dict[str, str],
    rng: random.Random,
    clock: CityClock = DEFAULT_CLOCK,
) -> list[tuple[int, dict[str, str]]]:
    """The (ts_ms, fields) events of one request: open, maybe in_progress, closed (with satisfaction)."""
    resolve_ms = rng.lognormvariate(0.0, 0.8) * category.median_hours * HOUR_MS
    resolve_ms = int(min(max(resolve_ms, 20 * MINUTE_MS), 14 * 24 * HOUR_MS))
    base = {"request_id": request_id, "category": category.name, **place}
    iso_local = clock.iso_local
    opened = {**base, "status": "open", "ts": iso_local(opened_ms)}
    if rng.random() < DESCRIBED_SHARE:
        opened["description"] = rng.choice(category.descriptions)
    events = [(opened_ms, opened)]
    if rng.random() < IN_PROGRESS_SHARE:
        taken_ms = opened_ms + int(resolve_ms * rng.uniform(0.05, 0.4))
        events.append((taken_ms, {**base, "status": "in_progress", "ts": iso_local(taken_ms)}))
    closed_ms = opened_ms + resolve_ms
    score = rng.choices([s for s, _ in SATISFACTION], [w for _, w in SATISFACTION])[0]
    events.append((closed_ms, {**base, "status": "closed", "satisfaction": str(score), "ts": iso_local(closed_ms)}))
    return events


class ComplaintProcess:
    """Files requests as time advances and releases their events in time order."""

    def __init__(
        self, city: CityMap, peak_per_hour: float, rng: random.Random, profile: Simulator, clock: CityClock
    ) -> None:
        self._city = city
        self._rng = rng
        self._clock = clock
        self._prefix = profile.request_prefix
        self._categories = tuple(profile.complaints)
        self._category_weights = [c.weight for c in self._categories]
        self._by_name = {c.name: c for c in self._categories}
        self._channels = list(profile.channels)
        self._channel_weights = list(profile.channels.values())
        self._peak_per_ms = peak_per_hour / HOUR_MS
        self._districts = list(city.districts)
        self._weights = [profile.population.get(d.id, 1.0) for d in self._districts]
        self._next_ms: float | None = None
        self._pending: list[tuple[int, int, dict[str, str]]] = []
        self._seq = 0

    def _file(self, opened_ms: int, category: Category | None = None, district_id: str | None = None) -> None:
        rng = self._rng
        category = category or rng.choices(self._categories, self._category_weights)[0]
        if district_id is None:
            district = rng.choices(self._districts, self._weights)[0]
        else:
            district = next(d for d in self._districts if d.id == district_id)
        lon, lat = self._city.random_point_in(district.id, rng)
        # Citizens' apps send the id, or the name in one of the city's languages: the ingest normalises them.
        names = [district.id, *dict.fromkeys(n for n in (district.name_en, district.name_zh) if n)]
        named = rng.choices(names, [0.8] + [0.2 / (len(names) - 1)] * (len(names) - 1))[0]
        place = {
            "district": named,
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
            "channel": rng.choices(self._channels, self._channel_weights)[0],
        }
        request_id = f"{self._prefix}{opened_ms}{rng.randrange(1000):03d}"  # unique across runs at other times
        for ts_ms, fields in life_cycle(request_id, opened_ms, category, place, rng, self._clock):
            self._seq += 1
            heapq.heappush(self._pending, (ts_ms, self._seq, fields))

    def surge(self, start_ms: int, end_ms: int, per_hour: float, category: str, district_id: str) -> None:
        """Extra requests of one category in one district (citizens reporting an incident)."""
        expected = per_hour * (end_ms - start_ms) / HOUR_MS
        for _ in range(_poisson(expected, self._rng)):
            self._file(int(self._rng.uniform(start_ms, end_ms)), self._by_name[category], district_id)

    def advance(self, start_ms: int, end_ms: int) -> list[dict[str, str]]:
        """Events with ``ts`` before ``end_ms``: requests filed in ``[start_ms, end_ms)`` and earlier ones' steps."""
        if self._next_ms is None:
            self._next_ms = start_ms + self._rng.expovariate(self._peak_per_ms)
        while self._next_ms < end_ms:
            if self._rng.random() < arrival_factor(self._clock.local_hour(self._next_ms)):  # thinning
                self._file(int(self._next_ms))
            self._next_ms += self._rng.expovariate(self._peak_per_ms)
        out = []
        while self._pending and self._pending[0][0] < end_ms:
            out.append(heapq.heappop(self._pending)[2])
        return out

    @property
    def open_requests(self) -> int:
        """Events scheduled but not yet due (requests still being handled)."""
        return len(self._pending)


def _poisson(mean: float, rng: random.Random) -> int:
    """A Poisson draw by counting exponential gaps (means here are small)."""
    count, total = 0, rng.expovariate(1.0) if mean > 0 else 1.0
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count


def satisfied_share(scores: Sequence[int]) -> float:
    """Share of ratings of 3 or more (the IOC's definition of a satisfied citizen)."""
    return sum(1 for s in scores if s >= SATISFIED_FROM) / len(scores) if scores else 1.0
