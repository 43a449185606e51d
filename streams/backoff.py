"""Exponential back-off with full jitter, for retrying the database or Redis."""

from __future__ import annotations

import random
from collections.abc import Iterator


def delays(initial_s: float, maximum_s: float, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays: each a random share of a ceiling that doubles from ``initial_s`` up to ``maximum_s``."""
    rng = rng or random.Random()
    ceiling = initial_s
    while True:
        yield rng.uniform(ceiling / 2, ceiling)
        ceiling = min(ceiling * 2, maximum_s)
