"""The live snapshot against real Redis and TimescaleDB: one elected builder, at most one build per interval,
rebuilt on commits and on age, and a reader cache that costs one HGET per TTL and survives Redis outages."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import redis

import bootstrap
from live.builder import SnapshotBuilder
from live.reader import SnapshotReader
from live.store import LiveKeys, read_snapshot, write_snapshot


def builder(
    settings, min_s: float = 1.0, max_s: float = 60.0, clock: Callable[[], float] = time.time
) -> SnapshotBuilder:
    return SnapshotBuilder(bootstrap.redis_client(settings), lambda: bootstrap.db_connection(settings),
                           LiveKeys(settings.consumer_group), "Asia/Shanghai", min_s, max_s, clock,
                           bands=lambda: bootstrap.status_bands(settings))  # fmt: skip


def redis_ms(client: redis.Redis) -> int:
    """Now on Redis's own clock, the one its key expiries follow (epoch milliseconds)."""
    seconds, micros = client.time()
    return seconds * 1000 + micros // 1000


def test_one_builder_wins_and_builds_at_most_once_per_interval(test_settings, rds):
    keys = LiveKeys(test_settings.consumer_group)
    readings = itertools.count(int(time.time()), 4)  # each look at the builders' clock is 4 s on: a build takes 4 s
    first, second = (builder(test_settings, min_s=30.0, clock=lambda: next(readings)) for _ in range(2))
    rds.hset(keys.stats, "last_commit_ms", 1)
    before = redis_ms(rds)
    assert first.step() == 1
    after = redis_ms(rds)
    # The lock, which no one builds without, stays until 30 s after the build began: 26 s after it was stored.
    assert before + 26_000 <= rds.pexpiretime(keys.lock) <= after + 26_000
    assert second.step() is None  # up to date
    rds.hset(keys.stats, "last_commit_ms", 2)  # new data at once: still within the interval
    assert second.step() is None and first.step() is None
    rds.delete(keys.lock)  # the interval is over (what the lock's expiry does by itself)
    assert second.step() == 2
    snapshot = read_snapshot(rds, keys)
    assert snapshot.version == 2 and snapshot.doc["version"] == 2 and "kpis" in snapshot.doc
    first.close()
    second.close()


def test_rebuilds_without_commits_once_the_snapshot_is_old(test_settings):
    now = [int(time.time())]  # whole seconds: the builder's milliseconds are exact
    ageing = builder(test_settings, min_s=0.0, max_s=60.0, clock=lambda: now[0])
    assert ageing.step() == 1  # no snapshot yet, no commit yet: build one
    now[0] += 59
    assert ageing.step() is None
    now[0] += 1
    assert ageing.step() == 2  # a minute old
    ageing.close()


def test_reader_asks_redis_once_per_ttl_and_fetches_only_new_versions(test_settings, rds):
    keys, now = LiveKeys(test_settings.consumer_group), [0.0]
    reader = SnapshotReader(rds, keys, ttl_s=0.5, clock=lambda: now[0])
    assert reader.current() is None
    write_snapshot(rds, keys, {"kpis": {}}, 1, 1)
    assert reader.current() is None  # within the TTL: the cache answers
    now[0] = 0.6
    assert reader.current().version == 1
    write_snapshot(rds, keys, {"kpis": {"x": 1}}, 2, 2)
    now[0] = 1.2
    assert reader.current().doc["kpis"] == {"x": 1}


def test_reader_serves_the_last_snapshot_when_redis_is_unreachable(test_settings, rds):
    keys, now = LiveKeys(test_settings.consumer_group), [0.0]
    write_snapshot(rds, keys, {"kpis": {}}, 1, 1)
    reader = SnapshotReader(rds, keys, ttl_s=0.1, clock=lambda: now[0])
    assert reader.current().version == 1
    reader.client = redis.Redis(port=1, socket_connect_timeout=0.2)  # nothing listens there
    now[0] = 1.0
    assert reader.current().version == 1
