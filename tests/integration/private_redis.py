"""A Redis server of the test's own, configured as docker-compose.yml runs Redis, that the test may stop and start.

The shared development Redis (127.0.0.1:6379) serves every other test, so a test that restarts Redis starts its
own: append-only with `appendfsync everysec` and the IOC's users from an ACL file (as compose does), on a free
loopback port, its data in the test's temporary directory. Restarted on the same port and directory, it reloads
the same data and the same users, as `docker compose restart redis` does.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import redis

from infra import redis_acl
from settings import Settings
from tests.integration.conftest import wait_until
from tests.served import free_port

# The host's Redis (Debian's redis-server) or, on a host without one, the one in the TimescaleDB chroot.
CANDIDATES = ("/usr/bin/redis-server", "/var/cache/ioc/timescaledb-trixie/usr/bin/redis-server")


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or next((c for c in CANDIDATES if Path(c).exists()), None)
    if found is None:
        pytest.skip("no redis-server binary for a private Redis")
    return found


class PrivateRedis:
    """``redis-server`` as a child process; ``stop`` (SIGTERM, as a container stop) and ``start`` again at will."""

    def __init__(self, directory: Path, settings: Settings) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # One password per IOC account (letters and digits, as compose wants them); the default user stays open
        # to the test itself, as `ioc services up` leaves it in development.
        self.passwords = {user: secrets.token_hex(16) for user in redis_acl.USERS.values()}
        (directory / "users.acl").write_text(
            redis_acl.acl_file(settings, self.passwords) + "user default on nopass ~* &* +@all\n"
        )
        self.proc: subprocess.Popen | None = None
        self.binary = redis_server_binary()

    def account_url(self, account: str) -> str:
        user = redis_acl.USERS[account]
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def start(self, *options: str) -> None:
        """Start (again) on the same port and data; ``options``: more of redis-server's own. It answers PING while
        it still loads its data; everything else answers LOADING until it is done."""
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
             "--aclfile", str(self.directory / "users.acl"), "--daemonize", "no", *options],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_until(lambda: _pong(client), timeout=30, what=f"the private Redis on port {self.port}")

    def stop(self) -> None:
        """SIGTERM: Redis writes and syncs its append-only file and exits, as on `docker compose restart`."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def loaded(client: redis.Redis) -> bool:
    """Whether Redis answers commands (not only PING): its data is loaded."""
    with contextlib.suppress(redis.RedisError):
        client.dbsize()
        return True
    return False


def _pong(client: redis.Redis) -> bool:
    with contextlib.suppress(redis.RedisError):
        return bool(client.ping())
    return False
