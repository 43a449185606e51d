"""Exponential back-off with full jitter, for retrying the database or Redis."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


def delays(initial_s: float, maximum_s: float, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays: each a random share of a ceiling that doubles from ``initial_s`` up to ``maximum_s``."""
    rng = rng or random.Random()
    ceiling = initial_s
    while True:
        yield rng.uniform(ceiling / 2, ceiling)
        ceiling = min(ceiling * 2, maximum_s)


def call_with_backoff(action: Callable[[], T], errors: tuple[type[BaseException], ...], max_delay_s: float,
                      what: str) -> T:  # fmt: skip
    """``action()``, retried after each of ``errors`` with back-off, for as long as it takes (outages end)."""
    waits = delays(0.1, max_delay_s)
    while True:
        try:
            return action()
        except errors as exc:
            pause = next(waits)
            log.warning("%s unavailable (%s); retrying in %.1f s", what, exc, pause)
            time.sleep(pause)
