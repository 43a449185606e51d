"""The shapes of a city's day: pure functions of local time that scale each kind of reading.

Every reading is ``a * factor + b + jitter`` for its device's own ``a`` and ``b`` (see ``simulator.devices``);
this module supplies the ``factor`` per model, once per generated window rather than once per reading.
The shapes are stylised but follow what the city's feeds show: weekday rush hours at 7–9 and 17–19 slow the
roads to about half their free-flow speed; PM2.5 has a morning and an evening peak and is cleanest in the
mixed afternoon air, higher in the dry winter monsoon than in the wet summer; noise falls ~12 dB at night;
electric load peaks in the hot afternoon; the rivers near the coast breathe with the semi-diurnal tide. The
seasons are the northern hemisphere's (both shipped cities are in it); local time is the city's ``CityClock``.
"""

from __future__ import annotations

import math
import random

from simulator.clock import HOUR_MS, CityClock

TRAFFIC, PARTICULATE, NOISE, TIDE, POWER = range(5)
M2_TIDE_MS = 12.42 * HOUR_MS  # principal lunar semi-diurnal period


def bump(hour: float, centre: float, width: float) -> float:
    """A Gaussian bump on the 24-hour circle (so 23:00 and 01:00 are two hours apart)."""
    distance = (hour - centre + 12.0) % 24.0 - 12.0
    return math.exp(-0.5 * (distance / width) ** 2)


def daytime(hour: float) -> float:
    """~0 at night, ~1 from 07:00 to 22:00, with soft edges."""
    return 1 / (1 + math.exp(-2.0 * (hour - 6.5))) / (1 + math.exp(-2.0 * (22.5 - hour)))


def traffic_speed_factor(hour: float, weekend: bool) -> float:
    """Share of free-flow speed: ~1.0 at 03:00, ~0.5 in weekday rush hours."""
    if weekend:
        congestion = 0.25 * bump(hour, 11.5, 2.0) + 0.3 * bump(hour, 17.5, 2.0)
    else:
        congestion = 0.5 * bump(hour, 8.0, 0.8) + 0.5 * bump(hour, 18.0, 0.9) + 0.15 * bump(hour, 13.0, 3.0)
    return max(0.3, 1.0 - congestion)


def particulate_factor(hour: float, day_of_year: int, haze: float) -> float:
    """PM2.5/PM10 relative to a device's typical level: diurnal × seasonal × the day's weather."""
    diurnal = 0.85 + 0.4 * bump(hour, 8.5, 1.5) + 0.5 * bump(hour, 21.0, 2.5) - 0.3 * bump(hour, 15.0, 2.5)
    seasonal = 1.0 + 0.4 * math.cos(2 * math.pi * (day_of_year - 15) / 365.25)  # January high, July low
    return diurnal * seasonal * haze


def noise_offset_db(hour: float, weekend: bool) -> float:
    """dB(A) added to a site's daytime level: −12 at night, +3 in rush hours."""
    rush = 0.0 if weekend else 3.0 * (bump(hour, 8.0, 1.0) + bump(hour, 18.0, 1.0))
    return -12.0 + 12.0 * daytime(hour) + rush


def power_load_factor(hour: float, day_of_year: int) -> float:
    """Share of a feeder's peak load: ~0.5 before dawn, 1.0 on a summer afternoon."""
    cooling = 0.75 + 0.25 * math.cos(2 * math.pi * (day_of_year - 200) / 365.25)  # air conditioning
    shape = 0.5 + 0.2 * daytime(hour) + 0.3 * cooling * bump(hour, 14.5, 3.0) + 0.08 * bump(hour, 20.0, 1.5)
    return min(shape, 1.0)


def tide(ms: int | float) -> float:
    """−1…1: the semi-diurnal tide felt at the tidal river gauges."""
    return math.sin(2 * math.pi * ms / M2_TIDE_MS)


def it_load_factor(hour: float) -> float:
    """Share of a data centre's IT capacity in use: internet services peak in the evening."""
    return 0.62 + 0.12 * bump(hour, 21.0, 3.0) + 0.06 * bump(hour, 11.0, 2.0) - 0.06 * bump(hour, 4.5, 2.0)


def outdoor_heat(hour: float) -> float:
    """0…1, hottest mid-afternoon: raises chiller work, hence PUE and inlet temperature."""
    return bump(hour, 14.5, 4.0)


def day_haze(seed: int, ms: int | float, clock: CityClock) -> float:
    """The day's air-quality weather (0.6 clean sea breeze … 1.8 stagnant), fixed per seed and date."""
    return random.Random(f"{seed}:haze:{clock.local_day(ms).isoformat()}").lognormvariate(0.0, 0.3)


def factors(ms: int | float, haze: float, clock: CityClock) -> list[float]:
    """The factor of every model at ``ms``, indexed by ``TRAFFIC`` … ``POWER``."""
    hour, weekend = clock.local_hour(ms), clock.is_weekend(ms)
    day_of_year = clock.local_day(ms).timetuple().tm_yday
    return [
        traffic_speed_factor(hour, weekend),
        particulate_factor(hour, day_of_year, haze),
        noise_offset_db(hour, weekend),
        tide(ms),
        power_load_factor(hour, day_of_year),
    ]
