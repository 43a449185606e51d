"""Bounded waiting for the benchmarks' steps (a stuck step fails the run instead of hanging it)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05) -> None:
    """Poll ``predicate`` every ``interval`` seconds until it holds; ``TimeoutError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step did not finish")
        time.sleep(interval)
