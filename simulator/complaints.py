"""Citizens' service requests (Shenzhen's 12345 hotline and i深圳 app), as Open311-style life cycles.

A request is filed (``open``), usually taken by a department (``in_progress``) and later ``closed`` with the
citizen's rating. Arrivals follow a daily curve that peaks mid-morning and mid-afternoon (a non-homogeneous
Poisson process drawn by thinning, so the arrivals do not depend on how time is cut into windows); each
request's later events are scheduled at filing and released when their time comes.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass

from geo.city import CityMap
from simulator.clock import HOUR_MS, iso_local, local_hour
from simulator.devices import POPULATION_M
from simulator.models import bump

MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of request: how common, how long to resolve (median hours), what citizens write."""

    name: str
    weight: float
    median_hours: float
    descriptions: tuple[str, ...]


CATEGORIES = (
    Category("noise", 0.17, 5.0, ("夜间施工噪音扰民", "广场舞音响声音过大", "酒吧噪音影响休息")),
    Category("illegal_parking", 0.13, 1.5, ("车辆占用消防通道", "人行道违停", "小区门口长期占道停车")),
    Category("garbage", 0.11, 6.0, ("垃圾未及时清运", "垃圾投放点异味严重")),
    Category("construction", 0.10, 36.0, ("工地扬尘严重", "施工未围挡", "渣土车撒漏")),
    Category("environment", 0.09, 24.0, ("河道发黑发臭", "餐饮油烟扰民")),
    Category("road_damage", 0.08, 48.0, ("路面坑洼影响通行", "井盖缺失", "人行道砖松动")),
    Category("water_supply", 0.07, 10.0, ("小区停水未通知", "水压不足", "自来水发黄")),
    Category("property_management", 0.06, 72.0, ("电梯故障长期未修", "物业收费不透明")),
    Category("street_light", 0.06, 30.0, ("路灯不亮", "路灯白天常亮")),
    Category("traffic_signal", 0.05, 8.0, ("红绿灯故障", "信号灯配时不合理")),
    Category("public_security", 0.05, 3.0, ("夜间有人聚集喧哗", "可疑人员徘徊")),
    Category("waterlogging", 0.03, 4.0, ("路段积水严重", "地下通道积水")),
)
CATEGORY_BY_NAME = {c.name: c for c in CATEGORIES}
CHANNELS = (("wechat", 0.38), ("hotline", 0.30), ("app", 0.22), ("web", 0.10))
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
    request_id: str, opened_ms: int, category: Category, place: dict[str, str], rng: random.Random
) -> list[tuple[int, dict[str, str]]]:
    """The (ts_ms, fields) events of one request: open, maybe in_progress, closed (with satisfaction)."""
    resolve_ms = rng.lognormvariate(0.0, 0.8) * category.median_hours * HOUR_MS
    resolve_ms = int(min(max(resolve_ms, 20 * MINUTE_MS), 14 * 24 * HOUR_MS))
    base = {"request_id": request_id, "category": category.name, **place}
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

    def __init__(self, city: CityMap, peak_per_hour: float, rng: random.Random) -> None:
        self._city = city
        self._rng = rng
        self._peak_per_ms = peak_per_hour / HOUR_MS
        self._districts = list(city.districts)
        self._weights = [POPULATION_M.get(d.id, 1.0) for d in self._districts]
        self._next_ms: float | None = None
        self._pending: list[tuple[int, int, dict[str, str]]] = []
        self._seq = 0

    def _file(self, opened_ms: int, category: Category | None = None, district_id: str | None = None) -> None:
        rng = self._rng
        category = category or rng.choices(CATEGORIES, [c.weight for c in CATEGORIES])[0]
        if district_id is None:
            district = rng.choices(self._districts, self._weights)[0]
        else:
            district = next(d for d in self._districts if d.id == district_id)
        lon, lat = self._city.random_point_in(district.id, rng)
        named = rng.choices([district.id, district.name_en, district.name_zh], [0.8, 0.1, 0.1])[0]
        place = {
            "district": named,
            "lat": f"{lat:.6f}",
            "lon": f"{lon:.6f}",
            "channel": rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0],
        }
        request_id = f"SZ{opened_ms}{rng.randrange(1000):03d}"  # unique across runs that start at other times
        for ts_ms, fields in life_cycle(request_id, opened_ms, category, place, rng):
            self._seq += 1
            heapq.heappush(self._pending, (ts_ms, self._seq, fields))

    def surge(self, start_ms: int, end_ms: int, per_hour: float, category: str, district_id: str) -> None:
        """Extra requests of one category in one district (citizens reporting an incident)."""
        expected = per_hour * (end_ms - start_ms) / HOUR_MS
        for _ in range(_poisson(expected, self._rng)):
            self._file(int(self._rng.uniform(start_ms, end_ms)), CATEGORY_BY_NAME[category], district_id)

    def advance(self, start_ms: int, end_ms: int) -> list[dict[str, str]]:
        """Events with ``ts`` before ``end_ms``: requests filed in ``[start_ms, end_ms)`` and earlier ones' steps."""
        if self._next_ms is None:
            self._next_ms = start_ms + self._rng.expovariate(self._peak_per_ms)
        while self._next_ms < end_ms:
            if self._rng.random() < arrival_factor(local_hour(self._next_ms)):  # thinning
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
