"""When a sensor is normal, warning, critical or stale: a small pure table, one row per kind and metric.

The levels follow the city's published standards where there is one: PM2.5/PM10 at China's AQI "light" and
"moderate" breakpoints (GB 3095-2012, 24-h means used as a guide for a live reading), noise at the class-4
daytime limit (GB 3096-2008, 70 dB(A)), traffic speed at the congested/jammed bands of Shenzhen's traffic
index. A reading is judged against the row of its (kind, metric); a device's status is its worst metric's.
"""

from __future__ import annotations

from dataclasses import dataclass

NORMAL, WARNING, CRITICAL, STALE = "normal", "warning", "critical", "stale"
SEVERITY = {NORMAL: 0, WARNING: 1, CRITICAL: 2, STALE: 3}


@dataclass(frozen=True)
class Threshold:
    """``warning``/``critical`` levels; ``above`` says whether high values are bad (else low values are)."""

    warning: float
    critical: float
    above: bool = True

    def status(self, value: float) -> str:
        """The band ``value`` falls in."""
        if self.above:
            return CRITICAL if value >= self.critical else WARNING if value >= self.warning else NORMAL
        return CRITICAL if value <= self.critical else WARNING if value <= self.warning else NORMAL


# (kind, metric) → levels. A metric without a row is never out of band (only stale).
THRESHOLDS: dict[tuple[str, str], Threshold] = {
    ("air_quality", "pm25"): Threshold(75.0, 115.0),
    ("air_quality", "pm10"): Threshold(150.0, 250.0),
    ("noise", "laeq_db"): Threshold(70.0, 85.0),
    ("traffic", "speed_kmh"): Threshold(20.0, 10.0, above=False),
    ("water_level", "level_m"): Threshold(2.0, 2.8),
}

# kind → minutes without a reading after which a device counts as stale (offline).
STALE_AFTER_MIN: dict[str, float] = {"traffic": 5, "noise": 5, "power": 5, "water_level": 10, "air_quality": 15}
DEFAULT_STALE_AFTER_MIN = 10.0


def stale_after_s(kind: str) -> float:
    """Seconds of silence after which a device of ``kind`` is stale."""
    return STALE_AFTER_MIN.get(kind, DEFAULT_STALE_AFTER_MIN) * 60


def reading_status(kind: str, metric: str, value: float, age_s: float) -> str:
    """Status of one metric of one device, ``age_s`` after its latest reading."""
    if age_s > stale_after_s(kind):
        return STALE
    band = THRESHOLDS.get((kind, metric))
    return band.status(value) if band else NORMAL


def worst(statuses: list[str]) -> str:
    """The most severe of several statuses (stale beats critical: we cannot vouch for the others)."""
    return max(statuses, key=SEVERITY.__getitem__, default=STALE)
