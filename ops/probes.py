"""The I/O behind ``/readyz``: ask Redis and the database, each within a deadline, and hand the facts to
``ops.readiness.judge``.

Each probe runs on a small thread pool and is waited for at most ``timeout_s``: a database that accepts the TCP
connection and then says nothing must not hold a load balancer's check (or a gunicorn thread) for minutes. A
probe still running at its deadline is reported as timed out; the pool is small, so a dead service cannot
pile up threads, and probes queued behind stuck ones are cancelled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import psycopg
import redis

from ops.readiness import Observed
from streams.status import group_facts

PROBE_THREADS = 2


class Probes:
    """Observe the facts readiness is judged on, for one dashboard process."""

    def __init__(self, client: redis.Redis, connect_db: Callable[[], psycopg.Connection], streams: Collection[str],
                 group: str, snapshot_key: str, timeout_s: float,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.client, self._connect_db = client, connect_db
        self.streams, self.group, self.snapshot_key = tuple(streams), group, snapshot_key
        self.timeout_s, self._clock = timeout_s, clock
        self._pool = ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="readyz-probe")

    def observe(self) -> Observed:
        """Both services asked at once; both answers (or their failures) within ``timeout_s`` in all."""
        deadline = time.monotonic() + self.timeout_s
        from_redis = self._pool.submit(self._redis_facts)
        from_db = self._pool.submit(self._database_answers)
        (lag, built_ms), redis_error = self._outcome(from_redis, "Redis", ({}, None), deadline)
        _, db_error = self._outcome(from_db, "the database", None, deadline)
        return Observed(redis_error, db_error, lag, built_ms, int(self._clock() * 1000))

    def _outcome(self, future: Future, name: str, empty: object, deadline: float) -> tuple[object, str | None]:
        try:
            return future.result(timeout=max(0.0, deadline - time.monotonic())), None
        except FutureTimeout:
            future.cancel()  # still queued behind a stuck probe: never run it
            return empty, f"{name} did not answer within {self.timeout_s:g} s"
        except (redis.RedisError, psycopg.Error, OSError) as exc:
            return empty, f"{name}: {type(exc).__name__}: {str(exc).strip()[:200]}"

    def _redis_facts(self) -> tuple[dict[str, int | None], int | None]:
        self.client.ping()
        facts = group_facts(self.client, self.streams, self.group)
        return {stream: _waiting(facts.get(stream)) for stream in self.streams}, self.snapshot_built_ms()

    def snapshot_built_ms(self) -> int | None:
        """When the live snapshot was built (epoch ms), None before the first build."""
        built = self.client.hget(self.snapshot_key, "built_ms")
        return None if built is None else int(built)

    def _database_answers(self) -> None:
        with self._connect_db() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _waiting(fact: dict | None) -> int | None:
    """Entries of a stream the group has not read (``streams.status.group_facts``)."""
    if fact is None:
        return 0  # no such stream yet: nothing has been sent, nothing waits
    if fact["pending"] is None:
        return fact["length"]  # no ingest worker ever started: everything waits
    return fact["lag"]
