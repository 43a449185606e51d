"""The local Redis Cluster of `ioc services cluster up`: which ports, which commands, and what to do next.

Pure: given the cluster URL, where the binaries are and what each node said when `up` looked, decide which
``redis-server`` processes to start and whether ``redis-cli --cluster create`` must still join them. The I/O
around it is :mod:`infra.redis_cluster`; the unit tests run this without a Redis.

Shape: 3 masters with one replica each (the smallest cluster where a master's death is survived), six
``redis-server`` processes on consecutive loopback ports starting at IOC_REDIS_CLUSTER_URL's port, each
append-only with ``appendfsync everysec`` as docker-compose.yml runs the single Redis, each in a directory of
its own (its AOF and its ``nodes.conf``), so a cluster stopped with `down` comes back with its data and its
slots on the next `up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.services_plan import LOCAL_HOSTS, redis_address

MASTERS = 3
REPLICAS_PER_MASTER = 1
NODES = MASTERS * (1 + REPLICAS_PER_MASTER)
# How long a master may be silent before its replica takes over. Redis' default is 15 s; 5 s lets a failover test
# finish sooner and is still several times longer than any pause the busy 2-core test machine has shown.
NODE_TIMEOUT_MS = 5000
# Inside the Debian chroot, where the chroot's Redis user may write (timescaledb_chroot.sh uses the same place).
CHROOT_DATA_DIR = Path("/var/lib/redis/ioc-cluster")


class ClusterPlanError(ValueError):
    """The configured cluster cannot be had here; the message says why and what to do."""


@dataclass(frozen=True)
class RedisBinaries:
    """How to run ``redis-server`` and ``redis-cli``: the host's own, or the chroot's as its user ``redis``.

    ``prefix`` goes before either program; ``data_dir`` is the cluster's directory as the servers see it, and
    ``root`` is where that path starts on the host (``/`` for the host's binaries, the chroot otherwise)."""

    prefix: tuple[str, ...]
    root: Path
    data_dir: Path

    def host_path(self, path: Path) -> Path:
        """Where a path the servers see is on this host."""
        return self.root / path.relative_to("/")


def host_binaries(data_dir: Path) -> RedisBinaries:
    """The host's ``redis-server`` and ``redis-cli`` (found on PATH), data in ``data_dir``."""
    return RedisBinaries(prefix=(), root=Path("/"), data_dir=data_dir)


def chroot_binaries(chroot_dir: Path) -> RedisBinaries:
    """The Debian chroot's, run as its user ``redis`` in a clean environment, as timescaledb_chroot.sh runs Redis."""
    prefix = ("chroot", "--userspec=redis:redis", str(chroot_dir), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
              "LANG=C.UTF-8")  # fmt: skip
    return RedisBinaries(prefix=prefix, root=chroot_dir, data_dir=CHROOT_DATA_DIR)


def cluster_ports(cluster_url: str) -> list[int]:
    """The six nodes' ports: the URL's and the next five. Only a loopback address can be started here."""
    host, port, _ = redis_address(cluster_url)
    if host not in LOCAL_HOSTS:
        raise ClusterPlanError(
            f"IOC_REDIS_CLUSTER_URL names {host}: `ioc services cluster` starts a cluster on this machine's loopback "
            "only; a remote cluster has to answer by itself."
        )
    if port + NODES - 1 > 65535:
        raise ClusterPlanError(f"IOC_REDIS_CLUSTER_URL's port {port}: the six nodes need {port}..{port + NODES - 1}")
    return [port + i for i in range(NODES)]


def node_dir(binaries: RedisBinaries, port: int) -> Path:
    """A node's own directory (as the servers see it): its AOF, nodes.conf, pid file and log."""
    return binaries.data_dir / str(port)


def server_command(binaries: RedisBinaries, port: int) -> list[str]:
    """``redis-server`` for one node: cluster mode, append-only with ``appendfsync everysec``, loopback only."""
    own = node_dir(binaries, port)
    return [
        *binaries.prefix, "redis-server",
        "--port", str(port), "--bind", "127.0.0.1",
        "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
        "--appendonly", "yes", "--appendfsync", "everysec",
        "--dir", str(own), "--daemonize", "yes",
        "--pidfile", str(own / "redis.pid"), "--logfile", str(own / "redis.log"),
    ]  # fmt: skip


def create_command(binaries: RedisBinaries, ports: list[int]) -> list[str]:
    """``redis-cli --cluster create``: 3 masters, a replica each, without the interactive question."""
    nodes = [f"127.0.0.1:{port}" for port in ports]
    return [*binaries.prefix, "redis-cli", "--cluster", "create", *nodes,
            "--cluster-replicas", str(REPLICAS_PER_MASTER), "--cluster-yes"]  # fmt: skip


@dataclass(frozen=True)
class NodeView:
    """What one port said when `up` looked: nothing (``answers`` False), or its ``CLUSTER INFO``."""

    answers: bool
    cluster_enabled: bool = False
    known_nodes: int = 0
    slots_assigned: int = 0
    state: str = ""
    # Whether its nodes.conf exists: a node stopped by `down` that already belongs to the cluster.
    has_config: bool = False

    @property
    def fresh(self) -> bool:
        """A node that belongs to no cluster yet (or will not, once started)."""
        if not self.answers:
            return not self.has_config
        return self.known_nodes <= 1 and self.slots_assigned == 0


@dataclass(frozen=True)
class ClusterPlan:
    """What `up` does: start these ports' servers, then join all six with ``redis-cli --cluster create`` or not."""

    start: tuple[int, ...]
    create: bool


def plan_cluster(views: Mapping[int, NodeView], data_dir: Path) -> ClusterPlan:
    """Start the nodes that do not answer; create the cluster only when every node belongs to none yet.

    A port answering as something else (a Redis without cluster mode), or some nodes in a cluster while others
    belong to none, is a problem a person must look at: starting over deletes data, so it is never done here."""
    not_cluster = [port for port, view in views.items() if view.answers and not view.cluster_enabled]
    if not_cluster:
        raise ClusterPlanError(
            f"port(s) {', '.join(map(str, not_cluster))} answer as a Redis without cluster mode, not started by "
            "`ioc services cluster up`: stop it, or set IOC_REDIS_CLUSTER_URL to a free range of six ports."
        )
    fresh = [port for port, view in views.items() if view.fresh]
    if fresh and len(fresh) != len(views):
        raise ClusterPlanError(
            f"node(s) {', '.join(map(str, fresh))} belong to no cluster while the others do. To start over (this "
            f"deletes the cluster's data): `ioc services cluster down`, remove {data_dir}, `ioc services cluster up`."
        )
    start = tuple(port for port, view in views.items() if not view.answers)
    return ClusterPlan(start=start, create=bool(fresh))


def parse_cluster_info(text: str) -> dict[str, str]:
    """``CLUSTER INFO``'s ``key:value`` lines as a dict."""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def all_nodes_healthy(cluster_nodes: str) -> bool:
    """Whether one node's ``CLUSTER NODES`` lists all six, each connected and none failing or still shaking hands.

    After a restart ``cluster_state:ok`` comes while a node may still think a replica failed, and ``CLUSTER SLOTS``
    (what cluster clients read) then leaves that replica out."""
    lines = [line.split() for line in cluster_nodes.splitlines() if line.strip()]
    bad_flags = {"fail", "fail?", "handshake", "noaddr"}
    return len(lines) == NODES and all(
        len(fields) >= 8 and fields[7] == "connected" and not bad_flags & set(fields[2].split(",")) for fields in lines
    )
