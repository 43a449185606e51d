"""A clock for the code under test that moves only when that code sleeps.

A worker given ``SteppedClock.monotonic`` and ``SteppedClock.sleep`` asks for its waits without taking them, so a
test checks which waits were asked for, and a busy machine cannot change what the test sees.
"""

from __future__ import annotations


class SteppedClock:
    """Monotonic seconds standing still until ``sleep`` moves them; every sleep is recorded in ``slept``."""

    def __init__(self, start: float = 1024.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
