"""The local Redis Cluster (`ioc services cluster up`) for the tests that need one: started once, left running.

A session fixture brings it up through the command itself (idempotent: a second `up` finds it running, in well
under a second) and leaves it running afterwards, as `ioc services up` leaves the shared Redis: forming six nodes
takes 20-30 s on the busy test machine, and every cluster test shares it, each on its own keys (random hash tags).
A test that stops or kills a node must leave the cluster as it found it; `ioc services cluster up` restarts
missing nodes, which rejoin by themselves. `ioc services cluster down` stops it by hand.

Import the fixture where it is needed: ``from tests.integration.redis_cluster import redis_cluster  # noqa: F401``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from redis.cluster import RedisCluster

from settings import Settings
from tests.integration.processes import REPO, settings_env

UP_TIMEOUT_S = 300  # the command's own waits are bounded at 90 s each; this only keeps a hung child from hanging CI


def cluster_up(settings: Settings) -> subprocess.CompletedProcess:
    """`ioc services cluster up` as a real process; its report (stderr) is in the result."""
    return subprocess.run([sys.executable, "-m", "cli.main", "services", "cluster", "up"], cwd=REPO,
                          env=settings_env(settings), capture_output=True, text=True, timeout=UP_TIMEOUT_S)  # fmt: skip


@pytest.fixture(scope="session")
def redis_cluster(base_settings: Settings) -> Iterator[RedisCluster]:
    """A client of the cluster at IOC_REDIS_CLUSTER_URL, which is up with cluster_state:ok on every node."""
    done = cluster_up(base_settings)
    assert done.returncode == 0, f"ioc services cluster up failed:\n{done.stderr}"
    client = RedisCluster.from_url(base_settings.redis_cluster_url, socket_timeout=10)
    yield client
    client.close()
