"""When to try a failed webhook again, and when to give up (pure).

Exponential back-off with *full jitter* (AWS architecture blog, "Exponential Backoff And Jitter"): the n-th
retry waits a uniformly random time in [0, min(max_delay, base · 2ⁿ⁻¹)], so receivers coming back from an
outage are not hit by every sender at once. A ``Retry-After`` header (429, 503) is honoured as given, up to
``max_delay``. A message still undelivered ``give_up_after`` after it was queued is dead-lettered, as is one the
receiver refuses for good (410 Gone).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple


@dataclass(frozen=True)
class RetryPolicy:
    """The schedule's three knobs (settings: IOC_ALERT_RETRY_*)."""

    base_s: float = 5.0
    max_delay_s: float = 3600.0
    give_up_after_s: float = 86_400.0


class Outcome(NamedTuple):
    """What to do with a message after an attempt."""

    delivered: bool
    retry_in_s: float | None  # None with delivered False: dead-letter it
    reason: str
    status: int | None = None  # the HTTP status, None without a response


def ceiling(policy: RetryPolicy, attempts: int) -> float:
    """The longest pause after the ``attempts``-th failed try (1-based)."""
    return min(policy.max_delay_s, policy.base_s * 2 ** min(attempts - 1, 62))


def retry_after_s(header: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` value in seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds()) if when.tzinfo else None


def decide(policy: RetryPolicy, *, status: int | None, retry_after: str | None, attempts: int, age_s: float,
           now: datetime, rng: random.Random) -> Outcome:  # fmt: skip
    """After attempt number ``attempts`` got ``status`` (None: no response at all), ``age_s`` after queueing."""
    if status is not None and 200 <= status < 300:
        return Outcome(True, None, f"HTTP {status}", status)
    reason = f"HTTP {status}" if status is not None else "no response"
    if status == 410:
        return Outcome(False, None, "HTTP 410 Gone: the receiver wants no more messages", status)
    asked = retry_after_s(retry_after, now) if status in (429, 503) else None
    pause = min(asked, policy.max_delay_s) if asked is not None else rng.uniform(0, ceiling(policy, attempts))
    if age_s + pause > policy.give_up_after_s:
        return Outcome(False, None, f"{reason}; gave up after {attempts} attempts", status)
    return Outcome(False, pause, reason, status)
