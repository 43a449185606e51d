"""What viewers' callbacks read: the current snapshot, from a per-process cache checked against Redis.

The cache asks Redis for the stored version at most every ``ttl_s`` (one HGET), and fetches and parses the
document only when the version moved; so 200 walls ticking every second cost a few Redis reads per second per
process and no database query. When Redis is unreachable the last snapshot is served: its data age keeps
growing and the views say so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis

from live.store import LiveKeys, Snapshot, read_snapshot, read_version


class SnapshotReader:
    """Thread-safe cached access to the stored snapshot."""

    def __init__(self, client: redis.Redis, keys: LiveKeys, ttl_s: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.client, self.keys, self.ttl_s = client, keys, ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: Snapshot | None = None
        self._checked = float("-inf")

    def current(self) -> Snapshot | None:
        """The newest snapshot this process knows, at most ``ttl_s`` behind Redis; None before the first build."""
        if self._clock() - self._checked < self.ttl_s or not self._lock.acquire(blocking=False):
            return self._cached  # fresh enough, or another thread is asking Redis right now
        try:
            self._checked = self._clock()
            version = read_version(self.client, self.keys)
            if version is not None and (self._cached is None or version != self._cached.version):
                self._cached = read_snapshot(self.client, self.keys) or self._cached
        except redis.RedisError:
            pass  # serve the last snapshot; its growing age tells the viewer
        finally:
            self._lock.release()
        return self._cached
