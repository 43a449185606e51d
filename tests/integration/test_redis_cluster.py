"""`ioc services cluster up` gives a real 3-master Redis Cluster with a replica each, where streams work by hash tag.

Each test uses its own random hash tags; the cluster stays up for the others (tests/integration/redis_cluster.py).
"""

from __future__ import annotations

import uuid

import redis
from redis.cluster import RedisCluster

from infra.redis_cluster_plan import MASTERS
from settings import Settings
from tests.integration.conftest import wait_until
from tests.integration.redis_cluster import cluster_up, redis_cluster  # noqa: F401 - the fixture


def _masters_by_tag(cluster: RedisCluster, prefix: str) -> dict[str, str]:
    """One hash tag per master: tag → that master's name ("host:port"), found by trying tags in turn."""
    found: dict[str, str] = {}
    for i in range(10_000):
        tag = f"{prefix}-{i}"
        master = cluster.get_node_from_key(f"{{{tag}}}").name
        if master not in found.values():
            found[tag] = master
        if len(found) == MASTERS:
            return found
    raise AssertionError(f"no tag of 10,000 reached all {MASTERS} masters")


def _node(name: str) -> redis.Redis:
    host, port = name.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), socket_timeout=10)


def test_a_second_up_finds_the_cluster_running(base_settings: Settings, redis_cluster: RedisCluster):  # noqa: F811
    done = cluster_up(base_settings)
    assert done.returncode == 0, done.stderr
    assert "already running, cluster_state:ok" in done.stderr


def test_three_masters_with_a_replica_each(redis_cluster: RedisCluster):  # noqa: F811
    masters = redis_cluster.get_primaries()
    assert len(masters) == MASTERS
    # Each master's own word, not CLUSTER SLOTS': Redis 7 leaves a replica out of CLUSTER SLOTS until it has
    # replicated a first write, which in a new, empty cluster may not have happened yet.
    replicas = {_replica_of_master(master.name) for master in masters}
    assert len(replicas) == MASTERS and not replicas & {master.name for master in masters}
    for replica in replicas:
        with _node(replica) as client:
            assert client.info("replication")["role"] == "slave", replica


def test_keys_with_different_hash_tags_live_on_different_masters(redis_cluster: RedisCluster):  # noqa: F811
    tags = _masters_by_tag(redis_cluster, uuid.uuid4().hex[:8])
    assert len(set(tags.values())) == MASTERS
    try:
        for tag in tags:
            redis_cluster.set(f"sensor:{{{tag}}}", tag)
        # Asked of each master directly, not through the cluster client: the key is there, and answers without a
        # MOVED redirect, so it really lives on that master.
        for tag, master in tags.items():
            with _node(master) as client:
                assert client.get(f"sensor:{{{tag}}}") == tag.encode()
    finally:
        for tag in tags:
            redis_cluster.delete(f"sensor:{{{tag}}}")


def test_a_stream_with_a_hash_tag_takes_a_group_read_and_acknowledgement(redis_cluster: RedisCluster):  # noqa: F811
    tag = uuid.uuid4().hex[:8]
    stream, group = f"city:iot:{{{tag}}}", "ingest"
    try:
        redis_cluster.xgroup_create(stream, group, id="0", mkstream=True)
        sent = [redis_cluster.xadd(stream, {"device_id": f"d{i}", "value": str(i)}) for i in range(3)]
        answer = redis_cluster.xreadgroup(group, "worker-1", {stream: ">"}, count=10)
        [(name, entries)] = answer
        assert name == stream.encode()
        assert [entry_id for entry_id, _ in entries] == sent
        assert entries[0][1] == {b"device_id": b"d0", b"value": b"0"}
        assert redis_cluster.xack(stream, group, *sent) == 3
        assert redis_cluster.xpending(stream, group)["pending"] == 0
        # The stream's master has a replica, which receives it (replication is asynchronous: wait, bounded).
        master = redis_cluster.get_node_from_key(stream)
        replica = _replica_of_master(master.name)
        with _node(replica) as client:
            client.execute_command("READONLY")
            wait_until(lambda: client.xlen(stream) == 3, timeout=30, what=f"{stream} on replica {replica}")
    finally:
        redis_cluster.delete(stream)


def _replica_of_master(name: str) -> str:
    """The one replica ("host:port") attached to the master ``name``, as the master reports it."""
    with _node(name) as client:
        info = client.info("replication")
    assert info["connected_slaves"] == 1, f"{name}: {info}"
    return f"{info['slave0']['ip']}:{info['slave0']['port']}"
