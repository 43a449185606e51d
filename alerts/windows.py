"""Time windows over a subject's recent values, O(1) amortised per value (pure).

A window keeps what arrived in the last ``span`` seconds of *event* time (the records' own ``ts``), so a burst of
late readings is judged by when things happened, not by when the evaluator saw them. A reading older than the
window (a dead letter replayed days later, a gateway's old buffer) changes nothing, and one late within the window
counts towards mean, min and max but never becomes the ``last`` value: that stays the newest by its own time.
Running sums give the mean and the energy-weighted ratio; monotonic deques give min and max without rescanning.
"""

from __future__ import annotations

from collections import deque


class SlidingWindow:
    """Values of one subject over the last ``span`` seconds: mean, min, max, first and last."""

    __slots__ = ("span", "_items", "_sum", "_mins", "_maxs", "_last")

    def __init__(self, span: float) -> None:
        self.span = span
        self._items: deque[tuple[float, float]] = deque()
        self._sum = 0.0
        self._mins: deque[tuple[float, float]] = deque()  # increasing values: the front is the minimum
        self._maxs: deque[tuple[float, float]] = deque()  # decreasing values: the front is the maximum
        self._last = (float("-inf"), 0.0)  # the newest value by its own time

    def push(self, ts: float, value: float) -> bool:
        """Add a value; anything older than ``span`` before the newest value drops out. A value that old itself
        is left out (returns False): it can change no judgement."""
        newest = self._last[0]
        if ts < newest - self.span:
            return False
        if ts >= newest:
            self._last = (ts, value)
        else:
            ts = newest  # late: counted at the newest time, so the deques stay time-ordered
        self._items.append((ts, value))
        self._sum += value
        while self._mins and self._mins[-1][1] >= value:
            self._mins.pop()
        self._mins.append((ts, value))
        while self._maxs and self._maxs[-1][1] <= value:
            self._maxs.pop()
        self._maxs.append((ts, value))
        self._expire(ts - self.span)
        return True

    def _expire(self, before: float) -> None:
        items = self._items
        while items and items[0][0] < before:
            _, old = items.popleft()
            self._sum -= old
        if not items:
            self._sum = 0.0  # forget float drift whenever the window empties
        while self._mins and self._mins[0][0] < before:
            self._mins.popleft()
        while self._maxs and self._maxs[0][0] < before:
            self._maxs.popleft()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def newest(self) -> float:
        """Time of the newest value (-inf when empty)."""
        return self._last[0]

    def reduce(self, how: str) -> float:
        """``mean``, ``min``, ``max``, ``last`` or ``first`` of the window (which must not be empty)."""
        if how == "mean":
            return self._sum / len(self._items)
        if how == "min":
            return self._mins[0][1]
        if how == "max":
            return self._maxs[0][1]
        if how == "first":
            return self._items[0][1]
        return self._last[1]


class RatioWindow:
    """Sum of numerators over sum of denominators in the last ``span`` seconds (energy-weighted PUE)."""

    __slots__ = ("span", "_items", "_num", "_den")

    def __init__(self, span: float) -> None:
        self.span = span
        self._items: deque[tuple[float, float, float]] = deque()
        self._num = 0.0
        self._den = 0.0

    def push(self, ts: float, numerator: float, denominator: float) -> bool:
        """Add one sample; samples older than ``span`` before it drop out. A sample that old itself is left out
        (returns False)."""
        if self._items and ts < self._items[-1][0] - self.span:
            return False
        if self._items and ts < self._items[-1][0]:
            ts = self._items[-1][0]
        self._items.append((ts, numerator, denominator))
        self._num += numerator
        self._den += denominator
        while self._items and self._items[0][0] < ts - self.span:
            _, num, den = self._items.popleft()
            self._num -= num
            self._den -= den
        return True

    @property
    def newest(self) -> float:
        """Time of the newest sample (-inf when empty)."""
        return self._items[-1][0] if self._items else float("-inf")

    def ratio(self) -> float | None:
        """The weighted ratio, or None with nothing in the window."""
        return self._num / self._den if self._den > 0 else None
