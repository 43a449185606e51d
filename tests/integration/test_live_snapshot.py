"""The live snapshot against real Redis and TimescaleDB: one elected builder, at most one build per interval,
rebuilt on commits and on age, and a reader cache that costs one HGET per TTL and survives Redis outages."""

from __future__ import annotations

import time

import redis

import bootstrap
from live.builder import SnapshotBuilder
from live.reader import SnapshotReader
from live.store import LiveKeys, read_snapshot, write_snapshot
from tests.integration.conftest import wait_until


def builder(settings, min_s: float = 1.0, max_s: float = 60.0) -> SnapshotBuilder:
    return SnapshotBuilder(bootstrap.redis_client(settings), lambda: bootstrap.db_connection(settings),
                           LiveKeys(settings.consumer_group), "Asia/Shanghai", min_s, max_s)  # fmt: skip


def test_one_builder_wins_and_builds_at_most_once_per_interval(test_settings, rds):
    keys = LiveKeys(test_settings.consumer_group)
    first, second = builder(test_settings), builder(test_settings)
    rds.hset(keys.stats, "last_commit_ms", 1)
    assert first.step() == 1
    built_at = time.monotonic()
    assert second.step() is None  # up to date
    rds.hset(keys.stats, "last_commit_ms", 2)  # new data at once: still within the interval
    assert second.step() is None and first.step() is None
    wait_until(lambda: second.step() == 2, timeout=3, what="the rebuild after the interval")
    assert time.monotonic() - built_at >= 0.9
    snapshot = read_snapshot(rds, keys)
    assert snapshot.version == 2 and snapshot.doc["version"] == 2 and "kpis" in snapshot.doc
    first.close()
    second.close()


def test_rebuilds_without_commits_once_the_snapshot_is_old(test_settings):
    ageing = builder(test_settings, min_s=0.05, max_s=0.3)
    assert ageing.step() == 1  # no snapshot yet, no commit yet: build one
    assert ageing.step() is None
    wait_until(lambda: ageing.step() == 2, timeout=3, what="a rebuild by age")
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
