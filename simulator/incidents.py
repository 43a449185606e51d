"""Incidents the IOC should notice: a river in flood, an air-quality spike, a data-centre cooling failure.

Each incident ramps up, holds and recedes (``intensity`` 0 → 1 → 0); while it lasts the readings it touches
are pulled towards its peak value: ``value = (1 - i) * normal + i * peak``. They happen on a seeded schedule
(each kind on some days, more often in its season: in Shenzhen floods in the rainy season and haze in the dry
one; the city pack's ``[simulator.incidents]`` says) and can also be started from the command line with
``--incident NAME[:TARGET]``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cities.schema import Incident as IncidentRule
from cities.schema import Incidents
from simulator.clock import DAY_MS, HOUR_MS, CityClock

MINUTE_MS = 60_000
FLOOD, AIR, COOLING = "flood", "air", "cooling"
KINDS = (FLOOD, AIR, COOLING)

# Thresholds the incidents cross (and that alert rules may use).
FLOOD_OVER_WARNING_M = 1.0  # the peak stands this far above the warning level: past the danger level too
PM25_HEAVY = 150.0  # ug/m3: "heavy pollution" band of China's AQI (HJ 633-2012)
AIR_PEAK = {"pm25": 210.0, "pm10": 330.0}
PUE_ALARM = 1.5
COOLING_PEAK_PUE = 1.68
COOLING_PEAK_INLET_C = 35.0

# kind → (ramp, hold, recede) in ms.
PROFILES = {
    FLOOD: (30 * MINUTE_MS, 60 * MINUTE_MS, 90 * MINUTE_MS),  # a cloudburst fills the river in ~30 min
    AIR: (20 * MINUTE_MS, 120 * MINUTE_MS, 60 * MINUTE_MS),
    COOLING: (10 * MINUTE_MS, 40 * MINUTE_MS, 20 * MINUTE_MS),
}


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident: what, where (a gauge's device id, a district id, a site id), and when it starts."""

    kind: str
    target: str
    start_ms: int

    @property
    def end_ms(self) -> int:
        """When it is over."""
        return self.start_ms + sum(PROFILES[self.kind])

    def intensity(self, ms: int | float) -> float:
        """0 before and after, rising linearly to 1, holding, then falling linearly."""
        ramp, hold, recede = PROFILES[self.kind]
        t = ms - self.start_ms
        if t <= 0 or t >= ramp + hold + recede:
            return 0.0
        if t < ramp:
            return t / ramp
        if t < ramp + hold:
            return 1.0
        return 1.0 - (t - ramp - hold) / recede


def daily_chance(rule: IncidentRule | None, day: date) -> float:
    """The chance an incident of this kind starts on ``day`` (0 for a kind the city pack leaves out)."""
    if rule is None:
        return 0.0
    return rule.chance_in_season if day.month in rule.season_months else rule.chance_otherwise


def scheduled_on(
    day: date, seed: int, targets: Mapping[str, Sequence[str]], rules: Incidents, clock: CityClock
) -> list[Incident]:
    """The seeded incidents of one local day (the same for a seed and date, whatever the run's start)."""
    found = []
    for kind in KINDS:
        rng = random.Random(f"{seed}:incident:{kind}:{day.isoformat()}")
        if not targets.get(kind) or rng.random() >= daily_chance(getattr(rules, kind), day):
            continue
        start_hour = rng.uniform(12.0, 20.0) if kind == FLOOD else rng.uniform(0.0, 22.0)
        target = rng.choice(sorted(targets[kind]))
        found.append(Incident(kind, target, clock.day_start_ms(day) + int(start_hour * HOUR_MS)))
    return found


def parse_trigger(text: str) -> tuple[str, str | None]:
    """``"flood"`` or ``"air:nanshan"`` → (kind, target or None); unknown kinds raise ``ValueError``."""
    kind, _, target = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(f"unknown incident {kind!r}; choose from {', '.join(KINDS)}")
    return kind, (target.strip() or None)


def triggered(
    kind: str, target: str | None, start_ms: int, seed: int, targets: Mapping[str, Sequence[str]]
) -> Incident:
    """An incident started on demand; without a target, the seed picks one."""
    choices = sorted(targets.get(kind, ()))
    if target is None:
        if not choices:
            raise ValueError(f"the simulated city has nothing a {kind} incident could hit")
        target = random.Random(f"{seed}:trigger:{kind}").choice(choices)
    elif target not in choices:
        raise ValueError(f"{target!r} is not a possible {kind} target; e.g. {', '.join(choices[:5])}")
    return Incident(kind, target, start_ms)


class IncidentPlan:
    """The seeded schedule (optional) plus triggered incidents; answers which are active in a window."""

    def __init__(
        self,
        seed: int,
        targets: Mapping[str, Sequence[str]],
        rules: Incidents,
        clock: CityClock,
        scheduled: bool = True,
    ) -> None:
        self.seed = seed
        self.targets = targets
        self.rules = rules
        self.clock = clock
        self.scheduled = scheduled
        self.extra: list[Incident] = []
        self._by_day: dict[date, list[Incident]] = {}

    def add(self, incident: Incident) -> None:
        """Start an incident on demand."""
        self.extra.append(incident)

    def _day(self, day: date) -> list[Incident]:
        if day not in self._by_day:
            if len(self._by_day) > 1000:
                self._by_day.clear()
            self._by_day[day] = scheduled_on(day, self.seed, self.targets, self.rules, self.clock)
        return self._by_day[day]

    def active(self, start_ms: int, end_ms: int) -> list[Incident]:
        """Incidents overlapping ``[start_ms, end_ms)``, in a stable order."""
        candidates = list(self.extra)
        if self.scheduled:
            # An incident lasts < 1 day, so one that touches the window started today or yesterday.
            first, last = self.clock.local_day(start_ms - DAY_MS), self.clock.local_day(end_ms)
            for ordinal in range(first.toordinal(), last.toordinal() + 1):
                candidates.extend(self._day(date.fromordinal(ordinal)))
        return [i for i in candidates if i.start_ms < end_ms and i.end_ms > start_ms]
