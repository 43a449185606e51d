"""The city streams sharded over a real local Redis Cluster (3 masters, a replica each): real `ioc ingest` workers
and a real `ioc alerts run` in the same groups on every shard, producers choosing the shard by the event's
identity. Every entry is stored once across the shards, alerts fire and resolve, the dead letters and the live
snapshot work there, and a master killed during ingest (its replica promoted) loses nothing acknowledged.

The cluster is shared with the other cluster tests and left running (tests/integration/redis_cluster.py); this
test's keys all start with its own tag and are deleted afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

import bootstrap
from infra import redis_cluster as infra_cluster
from infra.redis_cluster_plan import RedisBinaries, server_command
from live.reader import SnapshotReader
from live.store import LiveKeys
from settings import Settings
from simulator.publisher import publish
from streams.status import pipeline_status
from tests.integration import events
from tests.integration.alerting import Receiver, alerts_env, with_receivers, write_rules
from tests.integration.conftest import count, wait_until
from tests.integration.faults import RULES, T, children, firing, hot, start, stop
from tests.integration.redis_cluster import cluster_up, redis_cluster  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration
# Four shards: the hash tags {0} … {3} fall in the slots of all three masters (checked in the test, not assumed).
SHARDS = 4
HOT = "aq-7001"  # over the threshold, then back under it


@pytest.fixture
def sharded(test_settings: Settings, receiver: Receiver, tmp_path: Path,
            redis_cluster: RedisCluster) -> Iterator[Settings]:  # noqa: F811 - the fixture  # fmt: skip
    """The test's settings on the cluster, streams in SHARDS shards; its keys there deleted afterwards."""
    s = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "rules.toml", RULES),
                       alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                       ingest_batch=500, redis_url=test_settings.redis_cluster_url, redis_cluster=True,
                       stream_shards=SHARDS)  # fmt: skip
    try:
        yield s
    finally:
        tag = s.stream_iot.split(":", 1)[0]
        for key in redis_cluster.scan_iter(match=f"{tag}*"):
            redis_cluster.delete(key)


def background(first: int, n: int) -> list[tuple[str, dict[str, str]]]:
    """``n`` readings under the threshold from 600 devices (so every shard has some), each unique."""
    return [("iot", events.reading(f"aq-{i % 600}", value=i % 97, ts=T + i)) for i in range(first, first + n)]


def pending(cluster: RedisCluster, streams: tuple[str, ...], group: str) -> int:
    return sum(cluster.xpending(stream, group)["pending"] for stream in streams)


def test_ingest_and_alerting_over_a_redis_cluster_store_each_entry_once_and_fire_and_resolve(
    sharded: Settings, redis_cluster: RedisCluster, db, receiver, tmp_path  # noqa: F811
):
    s, cluster = sharded, redis_cluster
    iot_streams = [shard["iot"] for shard in s.shards.each]
    assert {cluster.get_node_from_key(stream).name for stream in iot_streams} == {
        node.name for node in cluster.get_primaries()}, "the shards fall on every master"  # fmt: skip
    producer = bootstrap.redis_client(s, "producer")
    ingest_log, alerts_log = tmp_path / "ingest.log", tmp_path / "alerts.log"
    procs = [start(["ingest", "--workers", "2"], alerts_env(s), ingest_log), start(["alerts", "run"], alerts_env(s),
                                                                                   alerts_log)]  # fmt: skip
    try:
        wait_until(lambda: cluster.get(f"{s.alert_consumer_group}:leader"), timeout=60, what="an elected evaluator")
        wait_until(lambda: all(len(cluster.xinfo_groups(stream)) == 2 for stream in iot_streams), timeout=60,
                   what="both consumer groups on every shard")  # fmt: skip
        now_ms = T + 3_000_000
        city = [*background(0, 4000),
                # Four sites sampled at the same instant, on whichever shards their names choose: four rows.
                *[("datacenter", events.sample(f"dc-{i}", 1300.0, 1000.0, now_ms)) for i in range(4)],
                *[("complaints", events.complaint(f"SZ-{i}", "open", now_ms)) for i in range(20)],
                ("iot", {"device_id": "aq-broken", "metric": "pm25"})]  # breaks the contract: a dead letter
        publish(producer, s.shards, city)
        publish(producer, s.shards, [("iot", fields) for fields in hot(HOT, 3)])
        used = {stream for stream in s.shards.names if cluster.xlen(stream)}
        assert {shard["iot"] for shard in s.shards.each} <= used, "every shard took readings"

        total = 4000 + 3
        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") == total
                   and pending(cluster, s.shards.names, s.consumer_group) == 0, timeout=180,
                   what=f"every reading stored and acknowledged on every shard ({ingest_log})")  # fmt: skip
        wait_until(lambda: firing(receiver) == [HOT], timeout=90, what=f"the alert over the cluster ({alerts_log})")
        publish(producer, s.shards, [("iot", events.reading(HOT, value=20, ts=int(time.time() * 1000)))])
        wait_until(lambda: any(d.json["type"] == "alert.resolved" for d in receiver.deliveries), timeout=90,
                   what=f"the alert resolved over the cluster ({alerts_log})")  # fmt: skip

        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") == total + 1, timeout=90,
                   what="the reading that resolved it stored too")  # fmt: skip
        assert count(db, "SELECT count(DISTINCT (device_id, metric, ts)) FROM sensor_readings") == total + 1
        assert count(db, "SELECT count(*) FROM datacenter_samples") == 4
        assert count(db, "SELECT count(*) FROM complaint_events") == 20
        assert count(db, "SELECT count(*) FROM alerts") == 1
        letters = cluster.xrange(s.stream_deadletter)
        assert len(letters) == 1 and letters[0][1][b"dlq_code"] == b"missing"
        assert letters[0][1][b"dlq_stream"].decode() in s.shards.names

        # The live snapshot is built and read over the cluster as over one Redis.
        builder = bootstrap.live_builder(s).builder
        try:
            assert builder.step() == 1
        finally:
            builder.close()
        snapshot = SnapshotReader(bootstrap.live_redis_client(s), LiveKeys(s.consumer_group)).current()
        assert snapshot is not None and snapshot.doc["kpis"]

        # The pipeline page's figures for every stream of every shard, asked in one pipeline over the masters.
        rows = {row["stream"]: row for row in pipeline_status(bootstrap.redis_client(s), s.shards.names,
                                                              s.consumer_group)["streams"]}  # fmt: skip
        assert set(rows) == set(s.shards.names)
        assert {stream: (row["length"], row["pending"]) for stream, row in rows.items()} == {
            stream: (cluster.xlen(stream), 0) for stream in s.shards.names}  # fmt: skip
        assert sum(rows[shard["iot"]]["parsed"] for shard in s.shards.each) == total + 1
        assert all(proc.poll() is None for proc in procs)
    finally:
        for proc in procs:
            stop(proc)
    text = ingest_log.read_text() + alerts_log.read_text()
    assert "Traceback" not in text, text[-5000:]


class ConfirmedProducer(threading.Thread):
    """Publishes chunks of readings until stopped; a chunk counts as sent only once every master has it on its
    replica (WAIT), the most a Redis Cluster promises: writes a dead master never passed on are the producer's to
    send again, not ingest's to have lost."""

    def __init__(self, settings: Settings, chunk: int = 500) -> None:
        super().__init__(daemon=True)
        self.settings, self.chunk = settings, chunk
        self.client = bootstrap.redis_client(settings, "producer")
        self.confirmed: list[tuple[str, int]] = []  # (device, ts) of every reading a replica holds
        self.stop_after = threading.Event()
        self.errors = 0
        self._next = 0

    def run(self) -> None:
        while not self.stop_after.is_set():
            batch = background(100_000 + self._next, self.chunk)
            self._next += self.chunk
            try:
                publish(self.client, self.settings.shards, batch)
                replicated = [self.client.execute_command("WAIT", 1, 5000, target_nodes=node)
                              for node in self.client.get_primaries()]  # fmt: skip
            except (redis.RedisError, OSError):
                self.errors += 1  # mid-failover: this chunk may or may not be there; it does not count
                continue
            if all(int(r) >= 1 for r in replicated):
                self.confirmed.extend((fields["device_id"], int(fields["ts"])) for _, fields in batch)


def test_a_master_killed_during_ingest_loses_nothing_acknowledged(
    sharded: Settings, redis_cluster: RedisCluster, base_settings: Settings, db, tmp_path  # noqa: F811
):
    s, cluster = sharded, redis_cluster
    victim_stream = s.shards.streams(0)["iot"]
    victim = cluster.get_node_from_key(victim_stream)
    ingest_log = tmp_path / "ingest.log"
    ingest = start(["ingest", "--workers", "2"], alerts_env(s), ingest_log)
    producer = ConfirmedProducer(s)
    victim_dir: str | None = None
    try:
        workers = wait_until(lambda: len(children(ingest.pid)) >= 2 and children(ingest.pid), timeout=60,
                             what="the two ingest worker processes")  # fmt: skip
        producer.start()
        wait_until(lambda: count(db, "SELECT count(*) FROM sensor_readings") >= 3000, timeout=120,
                   what=f"ingest under way ({ingest_log})")  # fmt: skip

        with redis.Redis(host=victim.host, port=victim.port, socket_timeout=5) as node:
            pid = int(node.info("server")["process_id"])
            victim_dir = node.config_get("dir")["dir"]  # its data, wherever the cluster was started from
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: _master_of(cluster, victim_stream) not in (None, victim.name), timeout=120,
                   what=f"the replica of {victim.name} promoted")  # fmt: skip
        sent_before = len(producer.confirmed)
        # The dead node restarted on its own data, as its operator would: it rejoins as the replica of the one
        # promoted, and writes to those slots can be confirmed on a replica again.
        restart_node(base_settings, victim.port, victim_dir)
        done = cluster_up(base_settings)
        assert done.returncode == 0, done.stderr
        wait_until(lambda: len(producer.confirmed) >= sent_before + 3000, timeout=120,
                   what="more readings confirmed after the failover")  # fmt: skip
        producer.stop_after.set()
        producer.join(60)

        confirmed = set(producer.confirmed)
        wait_until(lambda: pending(cluster, s.shards.names, s.consumer_group) == 0 and confirmed <= stored(db),
                   timeout=240, what=f"every confirmed reading stored and nothing pending ({ingest_log})")  # fmt: skip
        assert count(db, "SELECT count(DISTINCT (device_id, metric, ts)) FROM sensor_readings") == count(
            db, "SELECT count(*) FROM sensor_readings"), "a reading stored twice"
        assert ingest.poll() is None and children(ingest.pid) == workers, "the workers rode out the failover"
    finally:
        producer.stop_after.set()
        stop(ingest)
        if victim_dir is not None and not _answers(victim.host, victim.port):
            restart_node(base_settings, victim.port, victim_dir)  # the cluster as the test found it, for the others
        done = cluster_up(base_settings)
        assert done.returncode == 0, done.stderr
    text = ingest_log.read_text()
    assert "restarting it" not in text and "Traceback" not in text, text[-5000:]


def restart_node(settings: Settings, port: int, data_dir: str) -> None:
    """Start a killed node of the local cluster again on its own data directory (as its server saw it): the
    cluster may have been started by another checkout, whose directory `ioc services cluster up` does not know."""
    found = infra_cluster.binaries(settings)
    own = RedisBinaries(prefix=found.prefix, root=found.root, data_dir=Path(data_dir).parent)
    subprocess.run(server_command(own, port), check=True, capture_output=True, timeout=60)


def _answers(host: str, port: int) -> bool:
    try:
        with redis.Redis(host=host, port=port, socket_timeout=2) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def stored(db) -> set[tuple[str, int]]:
    """(device, epoch ms) of every stored reading."""
    rows = db.execute("SELECT device_id, (extract(epoch FROM ts) * 1000)::bigint FROM sensor_readings").fetchall()
    return {(device, int(ms)) for device, ms in rows}


def _master_of(cluster: RedisCluster, key: str) -> str | None:
    """The master serving ``key``'s slot as a surviving node reports it (its CLUSTER SHARDS), None while unsure."""
    slot = cluster.keyslot(key)
    for node in cluster.get_nodes():
        try:
            with redis.Redis(host=node.host, port=node.port, socket_timeout=2) as client:
                for start_slot, end_slot, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if start_slot <= slot <= end_slot:
                        return f"{master[0].decode()}:{master[1]}"
        except (redis.RedisError, OSError):
            continue
    return None
