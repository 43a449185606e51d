"""When to try a failed webhook again, and when to give up (pure).

Exponential back-off with *full jitter* (AWS architecture blog, "Exponential Backoff And Jitter"): the n-th
retry waits a uniformly random time in [0, min(max_delay, base · 2ⁿ⁻¹)], so receivers coming back from an
outage are not hit by every sender at once. A ``Retry-After`` header (429, 503) is honoured within
[base, max_delay]: the receiver may slow us down, but "0" must not turn into a tight loop. A header that is not
strictly delta-seconds or an HTTP-date (RFC 9110 §10.2.3) is ignored and the back-off applies. A message still
undelivered ``give_up_after`` after it was queued is dead-lettered, as is one the receiver refuses for good
(410 Gone).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

# RFC 9110 §5.6.7: IMF-fixdate, and the two obsolete forms a recipient must still accept. ASCII only: the
# header arrives decoded as ISO-8859-1, and str.isdigit() would let '²' through.
_DAY, _WEEKDAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)", "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TIME = "[0-9]{2}:[0-9]{2}:[0-9]{2}"
HTTP_DATE = re.compile(
    f"{_DAY}, [0-9]{{2}} {_MONTH} [0-9]{{4}} {_TIME} GMT"  # IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    f"|{_WEEKDAY}, [0-9]{{2}}-{_MONTH}-[0-9]{{2}} {_TIME} GMT"  # rfc850-date: Sunday, 06-Nov-94 08:49:37 GMT
    f"|{_DAY} {_MONTH} (?: [0-9]|[0-9]{{2}}) {_TIME} [0-9]{{4}}"  # asctime-date: Sun Nov  6 08:49:37 1994
)
DELTA_SECONDS = re.compile("[0-9]+")


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


def retry_after_s(header: str | None, now: datetime, floor_s: float, ceiling_s: float) -> float | None:
    """A ``Retry-After`` value in seconds, clamped to [floor_s, ceiling_s]; None unless it is strictly valid.

    Valid is ASCII delta-seconds or an HTTP-date (a date in the past asks for no wait, so it gets the floor).
    Total: any string gives a number in range or None, never an exception (a receiver writes this header).
    """
    if header is None:
        return None
    value = header.strip(" \t")
    if DELTA_SECONDS.fullmatch(value):
        asked = float(value)  # float, not int: 5,000 digits are inf (then the ceiling), not an error
    elif HTTP_DATE.fullmatch(value):
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError):  # e.g. 31 Feb or 25:00:00: the right shape, no such time
            return None
        asked = (when.replace(tzinfo=UTC) - now).total_seconds()  # every HTTP-date is GMT (asctime says so by rule)
    else:
        return None
    return min(ceiling_s, max(floor_s, asked))


def decide(policy: RetryPolicy, *, status: int | None, retry_after: str | None, attempts: int, age_s: float,
           now: datetime, rng: random.Random) -> Outcome:  # fmt: skip
    """After attempt number ``attempts`` got ``status`` (None: no response at all), ``age_s`` after queueing.

    ``Retry-After`` on a 429 or 503 is honoured no sooner than ``base_s``: that is the pause the policy itself
    allows after a first failure, so a receiver answering "0" (or a date in the past) gets a retry every
    ``base_s`` at most, not a tight loop, and one asking for a sensible pause gets exactly that.
    """
    if status is not None and 200 <= status < 300:
        return Outcome(True, None, f"HTTP {status}", status)
    reason = f"HTTP {status}" if status is not None else "no response"
    if status == 410:
        return Outcome(False, None, "HTTP 410 Gone: the receiver wants no more messages", status)
    asked = None
    if status in (429, 503):
        asked = retry_after_s(retry_after, now, min(policy.base_s, policy.max_delay_s), policy.max_delay_s)
    pause = asked if asked is not None else rng.uniform(0, ceiling(policy, attempts))
    if age_s + pause > policy.give_up_after_s:
        return Outcome(False, None, f"{reason}; gave up after {attempts} attempts", status)
    return Outcome(False, pause, reason, status)
