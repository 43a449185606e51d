"""Rebuild the snapshot when data changed, at most once per ``min_interval_s``, by one elected process.

Every dashboard process runs a ``BuilderThread``; each poll costs two Redis reads. When ingest has committed
since the stored snapshot (``last_commit_ms`` moved) or the snapshot is older than ``max_age_s`` (so that
"stale" and "x min old" show even when nothing arrives), a process tries ``SET lock NX PX``; the one that wins
runs the queries, stores the next version, then leaves the lock to expire ``min_interval_s`` after it took it.
That both elects a single builder across workers and hosts and caps rebuilds at one per interval.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache

import psycopg
import redis
from prometheus_client import Histogram

from cities.schema import Kpi
from live.queries import Windows, read_city
from live.snapshot import assemble
from live.store import LiveKeys, build_marks, write_snapshot
from live.thresholds import StatusBands

log = logging.getLogger(__name__)

BUILD_TIMEOUT_MS = 30_000
BUILD_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Keep the lock until min_interval after it was taken (rate limit), or drop it at once if that has passed.
_SETTLE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  if tonumber(ARGV[2]) > 0 then return redis.call('pexpire', KEYS[1], ARGV[2]) end
  return redis.call('del', KEYS[1])
end
return 0
"""


class SnapshotBuilder:
    """Decides whether a rebuild is due, takes the lock, builds, stores."""

    def __init__(self, client: redis.Redis, connect_db: Callable[[], psycopg.Connection], keys: LiveKeys,
                 timezone: str, min_interval_s: float, max_age_s: float,
                 clock: Callable[[], float] = time.time,
                 district_centres: Mapping[str, tuple[float, float]] | None = None,
                 alert_lease_key: str | None = None, max_sensors: int = 50_000, *,
                 bands: Callable[[], StatusBands], kpi: Kpi | None = None) -> None:  # fmt: skip
        self.client, self.keys, self.timezone = client, keys, timezone
        self.district_centres = dict(district_centres or {})
        self.alert_lease_key = alert_lease_key  # held while an alert evaluator runs (alerts/worker.py)
        self.min_interval_ms, self.max_age_ms = int(min_interval_s * 1000), int(max_age_s * 1000)
        self._connect_db = connect_db
        self._conn: psycopg.Connection | None = None
        self._clock = clock
        self._settle = client.register_script(_SETTLE_LOCK)
        self.max_sensors = max_sensors  # devices carried for the maps (IOC_LIVE_MAX_SENSORS)
        self.bands = bands  # the status bands in force (alerts.bands.StatusFile.current: the rules file)
        self.kpi = kpi  # the city's targets (its pack's [kpi]); None: the default city's

    def due(self, now_ms: int) -> tuple[bool, int | None]:
        """Whether the stored snapshot is behind ingest or too old; and the commit a rebuild would reflect."""
        commit, source, built = build_marks(self.client, self.keys)
        behind = commit is not None and commit != source
        return behind or built is None or now_ms - built >= self.max_age_ms, commit

    def step(self) -> int | None:
        """Rebuild if due and elected; the new version, or None when nothing was built."""
        now_ms = int(self._clock() * 1000)
        due, commit = self.due(now_ms)
        if not due:
            return None
        token = uuid.uuid4().hex
        if not self.client.set(self.keys.lock, token, nx=True, px=BUILD_TIMEOUT_MS):
            return None
        try:
            facts = self._read(datetime.fromtimestamp(now_ms / 1000, UTC))
            running = bool(self.alert_lease_key and self.client.exists(self.alert_lease_key))
            doc = assemble(facts, self.bands(), self.district_centres, alerting_running=running, kpi=self.kpi)
            return write_snapshot(self.client, self.keys, doc, commit, now_ms)
        finally:
            remaining = self.min_interval_ms - (int(self._clock() * 1000) - now_ms)
            self._settle(keys=[self.keys.lock], args=[token, max(remaining, 0)])

    def _read(self, now: datetime):
        if self._conn is None or self._conn.closed:
            self._conn = self._connect_db()
        try:
            return read_city(self._conn, Windows.at(now, self.timezone), self.max_sensors, self.kpi)
        except psycopg.OperationalError:
            self._conn.close()  # reconnect on the next build
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class BuilderThread(threading.Thread):
    """Polls ``builder.step()`` every ``poll_s`` until stopped; survives Redis and database outages."""

    def __init__(self, builder: SnapshotBuilder, poll_s: float = 0.2) -> None:
        super().__init__(name="live-snapshot-builder", daemon=True)
        self.builder, self.poll_s = builder, poll_s
        self._stopping = threading.Event()

    def run(self) -> None:
        failures = 0
        build_time = _build_histogram()
        while not self._stopping.is_set():
            try:
                started = time.perf_counter()
                if self.builder.step() is not None:  # this process was elected and built one
                    build_time.observe(time.perf_counter() - started)
                failures = 0
            except (redis.RedisError, psycopg.Error) as exc:
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:  # say it, without flooding the log
                    log.warning("live snapshot not rebuilt (%s failures in a row): %s", failures, exc)
            self._stopping.wait(self.poll_s)
        self.builder.close()

    def stop(self) -> None:
        self._stopping.set()


@cache
def _build_histogram() -> Histogram:
    # Made on first use, in the dashboard process that builds (after gunicorn forked it): docs/OPERATIONS.md.
    return Histogram("ioc_snapshot_build_duration_seconds", "Time to build and store one live snapshot (queries, "
                     "assembly, write), in the elected dashboard process.", buckets=BUILD_BUCKETS)  # fmt: skip
