"""A PostgreSQL + TimescaleDB server of the test's own, which the test may shut down fast or immediately and start
again on the same data.

The TimescaleDB on :5433 serves every other test, so it is never restarted. This one is the same build (the Debian
chroot `ioc services up` made, PostgreSQL 17 with TimescaleDB), run with chroot as the chroot's user `postgres`,
on a free loopback port, its data in a fresh directory under the chroot's /tmp, removed afterwards. It needs root
(chroot) and the chroot; without them the test is skipped, saying why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.integration.conftest import wait_until
from tests.served import free_port

CHROOT = Path(os.environ.get("IOC_CHROOT_DIR", "/var/cache/ioc/timescaledb-trixie"))
BIN = "/usr/lib/postgresql/17/bin"
# How PostgreSQL is asked to stop (its postmaster's signals): "fast" rolls back every open transaction and
# closes cleanly; "immediate" quits at once, as a crash would, and the next start recovers from the WAL.
SHUTDOWN = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def _chroot_id(table: str, name: str) -> int:
    for line in (CHROOT / "etc" / table).read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise LookupError(f"no {name} in the chroot's /etc/{table}")


class PrivatePostgres:
    """``postgres`` of the chroot as a child process (no pg_ctl: the test holds the postmaster's pid)."""

    def __init__(self) -> None:
        if os.geteuid() != 0 or not (CHROOT / BIN.lstrip("/") / "postgres").exists():
            pytest.skip(f"a private PostgreSQL needs root and the chroot at {CHROOT} (`ioc services up` makes it)")
        self.inside = f"/tmp/ioc-test-pg-{uuid.uuid4().hex[:10]}"  # the directory as the chroot sees it
        self.directory = CHROOT / self.inside.lstrip("/")
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.proc: subprocess.Popen | None = None
        self.directory.mkdir(mode=0o700)
        os.chown(self.directory, _chroot_id("passwd", "postgres"), _chroot_id("group", "postgres"))
        self._run(f"{BIN}/initdb", "-D", f"{self.inside}/data", "-A", "trust", "-U", "postgres", "--no-sync")

    def _command(self, *args: str) -> list[str]:
        return ["chroot", "--userspec=postgres:postgres", str(CHROOT), "/usr/bin/env", "-i", "PATH=/usr/bin:/bin",
                "LANG=C.UTF-8", *args]  # fmt: skip

    def _run(self, *args: str) -> None:
        subprocess.run(self._command(*args), check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            self._command(f"{BIN}/postgres", "-D", f"{self.inside}/data", "-p", str(self.port),
                          "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.inside}",
                          "-c", "shared_preload_libraries=timescaledb", "-c", "timescaledb.telemetry_level=off",
                          "-c", "shared_buffers=32MB", "-c", "max_connections=60"),
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self.answers, timeout=60, what=f"the private PostgreSQL on port {self.port}")

    def answers(self) -> bool:
        with contextlib.suppress(psycopg.OperationalError):
            psycopg.connect(self.url, connect_timeout=2).close()
            return True
        return False

    def stop(self, mode: str = "fast") -> None:
        """Shut the server down ``mode`` ("fast" or "immediate") and wait until it has exited."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(SHUTDOWN[mode])
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def remove(self) -> None:
        """Stop (immediately) and delete its data."""
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
