"""Sign-in attempts per client address per minute, counted in Redis so every dashboard process shares them.

A fixed one-minute window: simple, and the worst case (twice the limit across a window boundary) is still a
handful of argon2 checks. Refusing early also keeps a flood of attempts from spending the CPU on hashing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

WINDOW_S = 60


class AttemptLimiter:
    """At most ``per_minute`` attempts per address in each minute."""

    def __init__(
        self, client: redis.Redis, key_prefix: str, per_minute: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.client, self.key_prefix, self.per_minute, self.clock = client, key_prefix, per_minute, clock

    def allow(self, address: str) -> bool:
        """Count one attempt from ``address``; False once it is over the limit for this minute."""
        window = int(self.clock() // WINDOW_S)
        key = f"{self.key_prefix}:{window}:{address[:64]}"
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_S)
            attempts, _ = pipe.execute()
        return int(attempts) <= self.per_minute

    def retry_after_s(self) -> int:
        """Seconds until the current window ends."""
        return WINDOW_S - int(self.clock()) % WINDOW_S
