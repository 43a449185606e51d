"""Data centres: IT load that follows the internet's day, and a facility overhead (PUE) in the pack's range.

Shenzhen required new data centres to reach a PUE below 1.3 (down from ~1.6 for older halls); its simulated
sites sit around 1.2–1.35, a little higher in the afternoon heat when the chillers work harder. Names, sizes,
PUE and inlet temperatures come from the city pack (``[simulator.datacenters]``). Each site samples on a fixed
grid of ``interval_ms``, so which samples fall in a window never depends on the window.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cities.schema import DataCentres
from simulator.models import it_load_factor, outdoor_heat


@dataclass(frozen=True, slots=True)
class Site:
    """One data-centre site and its steady characteristics."""

    site: str
    it_capacity_kw: float
    base_pue: float
    inlet_c: float
    humidity_pct: float | None  # None: the site has no humidity sensor on this feed


@dataclass(frozen=True, slots=True)
class SampleState:
    """What an incident may change in a sample: the PUE and the server inlet temperature."""

    pue: float
    inlet_c: float


def make_sites(count: int, seed: int, figures: DataCentres) -> list[Site]:
    """``count`` sites named as the pack names them (``dc-NN`` past its list), deterministic by seed."""
    rng = random.Random(f"{seed}:datacenter")
    sites = []
    for n in range(count):
        name = figures.sites[n] if n < len(figures.sites) else f"dc-{n:02d}"
        humidity = rng.uniform(40.0, 55.0) if n % 3 != 2 else None
        sites.append(Site(name, rng.uniform(*figures.it_capacity_kw), rng.uniform(*figures.pue),
                          rng.uniform(*figures.inlet_c), humidity))  # fmt: skip
    return sites


def normal_state(site: Site, hour: float, rng: random.Random) -> SampleState:
    """PUE and inlet temperature of a healthy site at this hour."""
    heat = outdoor_heat(hour)
    return SampleState(
        pue=site.base_pue + 0.04 * heat + 0.006 * (rng.random() - 0.5),
        inlet_c=site.inlet_c + 1.2 * heat + 0.4 * (rng.random() - 0.5),
    )


def sample(site: Site, ms: int, hour: float, state: SampleState, rng: random.Random) -> dict[str, str]:
    """One power sample's fields; ``facility_kw`` is IT power times the PUE, so the ratio is the PUE."""
    it_kw = site.it_capacity_kw * it_load_factor(hour) * (1.0 + 0.02 * (rng.random() - 0.5))
    fields = {
        "site": site.site,
        "facility_kw": f"{it_kw * state.pue:.1f}",
        "it_kw": f"{it_kw:.1f}",
        "inlet_temp_c": f"{state.inlet_c:.1f}",
        "ts": str(ms),
    }
    if site.humidity_pct is not None:
        fields["humidity_pct"] = f"{site.humidity_pct + 3.0 * (rng.random() - 0.5):.1f}"
    return fields


def sample_times(start_ms: int, end_ms: int, interval_ms: int) -> range:
    """The sampling instants in ``[start_ms, end_ms)``."""
    first = -(-start_ms // interval_ms) * interval_ms
    return range(first, end_ms, interval_ms)
