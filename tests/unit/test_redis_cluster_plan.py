"""`ioc services cluster up` decides which nodes to start and whether to create the cluster without a Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.redis_cluster_plan import (
    ClusterPlanError,
    NodeView,
    all_nodes_healthy,
    chroot_binaries,
    cluster_ports,
    create_command,
    host_binaries,
    parse_cluster_info,
    plan_cluster,
    server_command,
)

PORTS = [7001, 7002, 7003, 7004, 7005, 7006]
DATA = Path("/data")
SILENT = NodeView(answers=False)
FRESH = NodeView(answers=True, cluster_enabled=True, known_nodes=1, slots_assigned=0, state="fail")
JOINED = NodeView(answers=True, cluster_enabled=True, known_nodes=6, slots_assigned=16384, state="ok")


def test_six_consecutive_loopback_ports_from_the_url():
    assert cluster_ports("redis://127.0.0.1:7001") == PORTS
    assert cluster_ports("redis://localhost:9000/0") == list(range(9000, 9006))


@pytest.mark.parametrize("url", ["redis://10.0.0.5:7001", "redis://127.0.0.1:65531"])
def test_a_remote_host_or_a_range_past_the_last_port_is_refused(url):
    with pytest.raises(ClusterPlanError):
        cluster_ports(url)


def test_nothing_running_starts_all_six_and_creates_the_cluster():
    plan = plan_cluster(dict.fromkeys(PORTS, SILENT), DATA)
    assert (plan.start, plan.create) == (tuple(PORTS), True)


def test_a_running_cluster_is_left_as_it_is():
    plan = plan_cluster(dict.fromkeys(PORTS, JOINED), DATA)
    assert (plan.start, plan.create) == ((), False)


def test_stopped_nodes_of_a_cluster_restart_and_rejoin_without_a_second_create():
    stopped = NodeView(answers=False, has_config=True)
    plan = plan_cluster({**dict.fromkeys(PORTS, JOINED), 7002: stopped, 7005: stopped}, DATA)
    assert (plan.start, plan.create) == ((7002, 7005), False)


def test_nodes_started_but_not_yet_joined_are_joined():
    plan = plan_cluster({**dict.fromkeys(PORTS, FRESH), 7006: SILENT}, DATA)
    assert (plan.start, plan.create) == ((7006,), True)


def test_a_half_made_cluster_is_a_problem_for_a_person_not_a_reset():
    with pytest.raises(ClusterPlanError, match="7003") as error:
        plan_cluster({**dict.fromkeys(PORTS, JOINED), 7003: SILENT}, DATA)
    assert "remove /data" in str(error.value)


def test_a_plain_redis_on_a_port_is_not_taken_over():
    with pytest.raises(ClusterPlanError, match="7004"):
        plan_cluster({**dict.fromkeys(PORTS, SILENT), 7004: NodeView(answers=True)}, DATA)


def test_each_node_is_append_only_every_second_in_its_own_directory_on_the_loopback():
    command = server_command(host_binaries(DATA), 7003)
    options = dict(zip(command[1::2], command[2::2], strict=False))
    assert command[0] == "redis-server"
    assert options["--appendonly"] == "yes" and options["--appendfsync"] == "everysec"
    assert options["--cluster-enabled"] == "yes" and options["--bind"] == "127.0.0.1"
    assert options["--dir"] == "/data/7003" and options["--pidfile"] == "/data/7003/redis.pid"


def test_the_chroot_runs_both_programs_as_its_redis_user_with_data_inside_it():
    found = chroot_binaries(Path("/srv/chroot"))
    assert server_command(found, 7001)[:3] == ["chroot", "--userspec=redis:redis", "/srv/chroot"]
    assert found.host_path(found.data_dir) == Path("/srv/chroot/var/lib/redis/ioc-cluster")
    create = create_command(found, PORTS)
    assert create[create.index("redis-cli") :][:3] == ["redis-cli", "--cluster", "create"]
    assert create[-3:] == ["--cluster-replicas", "1", "--cluster-yes"]


def test_cluster_info_lines_are_read_as_pairs():
    text = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_known_nodes:6\r\n"
    assert parse_cluster_info(text) == {"cluster_state": "ok", "cluster_slots_assigned": "16384",
                                        "cluster_known_nodes": "6"}  # fmt: skip


NODES_TEXT = "\n".join(
    f"id{port} 127.0.0.1:{port}@1{port} {'myself,' if port == 7001 else ''}{role} - 0 0 1 connected"
    for port, role in zip(PORTS, ["master"] * 3 + ["slave"] * 3, strict=True)
)


def test_the_cluster_is_healthy_when_a_node_sees_all_six_connected_and_none_failing():
    assert all_nodes_healthy(NODES_TEXT)
    assert not all_nodes_healthy(NODES_TEXT.replace("slave - 0 0 1 connected", "slave,fail? - 0 0 1 connected", 1))
    assert not all_nodes_healthy(NODES_TEXT.replace("connected", "disconnected", 1))
    assert not all_nodes_healthy("\n".join(NODES_TEXT.splitlines()[:5]))
