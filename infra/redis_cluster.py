"""`ioc services cluster up|status|down`: the local Redis Cluster's processes around the pure plan.

:mod:`infra.redis_cluster_plan` decides which nodes to start and whether to create the cluster; this module
looks at the six ports, starts ``redis-server`` (the host's, else the Debian chroot's), runs
``redis-cli --cluster create`` once, and waits (bounded) until every node says ``cluster_state:ok``.

`down` stops only servers whose pid file is in this cluster's own directory and whose process is that node
(a cluster found running from elsewhere is used as it is and left alone, as `ioc services up` does with Redis).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from infra.redis_cluster_plan import (
    REPLICAS_PER_MASTER,
    ClusterPlanError,
    NodeView,
    RedisBinaries,
    all_nodes_healthy,
    chroot_binaries,
    cluster_ports,
    create_command,
    host_binaries,
    node_dir,
    parse_cluster_info,
    plan_cluster,
    server_command,
)
from infra.services import Say, ServicesError, wait_until
from settings import Settings

# The machine's, not a checkout's: a cluster outlives the clone that started it (CI clones come and go while the
# cluster stays up for the next), and a node restarted from any checkout must find its own data.
HOST_DATA_DIR = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "ioc" / "redis-cluster"
# Six servers on two busy cores, then the gossip until every node agrees: seconds, rarely more than 20.
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


def binaries(settings: Settings) -> RedisBinaries:
    """The host's redis-server and redis-cli if both are on PATH, else the chroot's (made by `ioc services up`)."""
    if shutil.which("redis-server") and shutil.which("redis-cli"):
        return host_binaries(HOST_DATA_DIR)
    if (settings.chroot_dir / "usr/bin/redis-server").exists():
        if os.geteuid() != 0:
            raise ServicesError(f"the chroot's Redis at {settings.chroot_dir} is run with chroot, which needs root")
        return chroot_binaries(settings.chroot_dir)
    raise ServicesError(
        "no redis-server here: install Redis (Debian: apt-get install redis-server), or as root on Debian run "
        "`ioc services up` first, which makes the chroot whose Redis the cluster then uses."
    )


def _client(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2, socket_timeout=5)


def look(port: int, found: RedisBinaries) -> NodeView:
    """What answers on ``port``: nothing, a plain Redis, or a cluster node and how far it has joined."""
    has_config = found.host_path(node_dir(found, port) / "nodes.conf").exists()
    try:
        with _client(port) as client:
            if not client.info("cluster").get("cluster_enabled"):
                return NodeView(answers=True, has_config=has_config)
            info = parse_cluster_info(client.execute_command("CLUSTER", "INFO").decode())
    except (redis.RedisError, OSError):
        return NodeView(answers=False, has_config=has_config)
    return NodeView(answers=True, cluster_enabled=True, known_nodes=int(info.get("cluster_known_nodes", 0)),
                    slots_assigned=int(info.get("cluster_slots_assigned", 0)), state=info.get("cluster_state", ""),
                    has_config=has_config)  # fmt: skip


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as error:
        raise ServicesError(f"{what} did not finish within 120 s") from error
    if done.returncode != 0:
        raise ServicesError(f"{what} failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}")


def _start_node(found: RedisBinaries, port: int) -> None:
    own = found.host_path(node_dir(found, port))
    own.mkdir(parents=True, exist_ok=True)
    if found.prefix:  # the chroot's servers run as its user redis, who must own their directory
        chroot_root = found.root
        shutil.chown(own, user=_chroot_id(chroot_root, "passwd"), group=_chroot_id(chroot_root, "group"))
        own.parent.chmod(0o755)
    _run(server_command(found, port), f"redis-server on port {port}")


def _chroot_id(chroot_root: Path, table: str) -> int:
    """The chroot's ``redis`` user or group id (its /etc, not the host's: the two may differ)."""
    for line in (chroot_root / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == "redis":
            return int(fields[2])
    raise ServicesError(f"the chroot at {chroot_root} has no redis {table} entry")


def _replicating(port: int) -> bool:
    """A master with its replica attached, or a replica whose link to its master is up."""
    try:
        with _client(port) as client:
            info = client.info("replication")
    except (redis.RedisError, OSError):
        return False
    if info.get("role") == "master":
        return int(info.get("connected_slaves", 0)) >= REPLICAS_PER_MASTER
    return info.get("master_link_status") == "up"


def _cluster_ok(ports: list[int], found: RedisBinaries) -> bool:
    # cluster_state:ok alone comes before a restarted replica has resynchronised with its master: wait for both,
    # so a test that reads a replica or kills a master right after `up` finds the replicas attached.
    return all(look(port, found).state == "ok" and _replicating(port) and _sees_all(port) for port in ports)


def _sees_all(port: int) -> bool:
    try:
        with _client(port) as client:
            return all_nodes_healthy(client.execute_command("CLUSTER", "NODES").decode())
    except (redis.RedisError, OSError):
        return False


def up(settings: Settings, say: Say) -> list[int]:
    """Make the six-node cluster at IOC_REDIS_CLUSTER_URL answer with ``cluster_state:ok`` (idempotent)."""
    try:
        ports = cluster_ports(settings.redis_cluster_url)
        found = binaries(settings)
        plan = plan_cluster({port: look(port, found) for port in ports}, found.host_path(found.data_dir))
    except ClusterPlanError as error:
        raise ServicesError(str(error)) from error
    if not plan.start and not plan.create and _cluster_ok(ports, found):
        say(f"Redis Cluster 127.0.0.1:{ports[0]}-{ports[-1]}: already running, cluster_state:ok")
        return ports
    if plan.start:
        where = "the host's" if not found.prefix else f"the chroot's ({found.root})"
        say(f"starting redis-server ({where}) on {', '.join(map(str, plan.start))}, data in "
            f"{found.host_path(found.data_dir)}")  # fmt: skip
        for port in plan.start:
            _start_node(found, port)
        for port in plan.start:
            wait_until(lambda port=port: look(port, found).answers, f"redis-server on port {port}", READY_TIMEOUT_S)
    if plan.create:
        say("creating the cluster: 3 masters, a replica each (redis-cli --cluster create)")
        _run(create_command(found, ports), "redis-cli --cluster create")
    wait_until(lambda: _cluster_ok(ports, found), "cluster_state:ok on all six nodes", READY_TIMEOUT_S)
    say(f"Redis Cluster 127.0.0.1:{ports[0]}-{ports[-1]}: cluster_state:ok")
    return ports


def _pid_of_node(found: RedisBinaries, port: int) -> int | None:
    """The pid in this node's pid file, if that process is still this node (a pid may be reused after a reboot)."""
    pidfile = found.host_path(node_dir(found, port) / "redis.pid")
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().strip())
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        if title.startswith("redis-server") and f":{port}" in title:
            return pid
    return None


def status(settings: Settings) -> tuple[bool, list[str]]:
    """Whether every node says ``cluster_state:ok``, and a line per node: role, state, and who started it."""
    try:
        ports = cluster_ports(settings.redis_cluster_url)
        found = binaries(settings)
    except (ClusterPlanError, ServicesError) as error:
        return False, [str(error)]
    lines, ok = [], True
    for port in ports:
        view = look(port, found)
        ok = ok and view.state == "ok"
        if not view.answers:
            lines.append(f"127.0.0.1:{port}  not answering")
            continue
        with _client(port) as client:
            role = client.info("replication").get("role", "?")
        started = _pid_of_node(found, port)
        origin = "started by ioc services cluster up" if started else "not started by `ioc services cluster up`"
        state = view.state if view.cluster_enabled else "not a cluster node"
        lines.append(f"127.0.0.1:{port}  {role:<6}  cluster_state:{state}  ({origin})")
    return ok, lines


def down(settings: Settings, say: Say) -> None:
    """Stop the nodes `cluster up` started (SIGTERM: each flushes its AOF first); data and slots are kept."""
    try:
        ports = cluster_ports(settings.redis_cluster_url)
    except ClusterPlanError as error:
        raise ServicesError(str(error)) from error
    found = binaries(settings)
    stopping = {port: pid for port in ports if (pid := _pid_of_node(found, port)) is not None}
    if not stopping:
        say("nothing to stop: ioc services cluster up started no node here")
        return
    say(f"stopping redis-server on {', '.join(map(str, stopping))} (data kept in {found.host_path(found.data_dir)})")
    for pid in stopping.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(Path(f"/proc/{pid}").exists() for pid in stopping.values()):
        if time.monotonic() > deadline:
            raise ServicesError(f"redis-server did not stop within {STOP_TIMEOUT_S:.0f} s: {sorted(stopping.values())}")
        time.sleep(0.1)
