"""The dashboard served for real (gunicorn on a free port) and signed-in accounts, for HTTP and browser tests."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import requests

import bootstrap
from auth.principal import cli_principal
from settings import Settings
from tests.integration.conftest import wait_until
from tests.integration.processes import settings_env

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError as exc:
        return getattr(exc, "code", None)


def child_env(settings: Settings) -> dict[str, str]:
    """``settings_env`` without empty IOC_ values, which a child would parse (an empty JSON list is not "")."""
    return {k: v for k, v in settings_env(settings).items() if v != "" or not k.startswith("IOC_")}


class Served:
    """``gunicorn app:server`` as a real process; restartable on the same port."""

    def __init__(self, settings: Settings, log: Path, workers: int = 2, env: dict[str, str] | None = None) -> None:
        self.settings, self.log, self.workers = settings, log, workers
        self.env = {**child_env(settings), **(env or {})}  # ``env``: what settings_env cannot carry (secrets)
        self.url = f"http://{settings.http_host}:{settings.http_port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server",
             "--bind", f"{self.settings.http_host}:{self.settings.http_port}",
             "--workers", str(self.workers), "--threads", "8", "--graceful-timeout", "5"],
            cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        # Bounded, but generous: under five suites at once on 2 cores (load 26) a start took more than 30 s.
        try:
            wait_until(lambda: http_status(self.url + "/healthz") == 200, timeout=120, what=f"gunicorn at {self.url}")
        except AssertionError:
            self.stop()  # a server that never answered must not outlive the test that started it
            raise

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    role: str


ACCOUNTS = {
    "admin": Account("ada.admin", "admin password for tests", "admin"),
    "operator": Account("chen.jing", "operator password for tests", "operator"),
    "viewer": Account("vic.viewer", "viewer password for tests", "viewer"),
}


def add_accounts(settings: Settings) -> dict[str, Account]:
    """One account per role in the settings' schema (through the admin command path, as `ioc users add` does)."""
    commands = bootstrap.access_commands(settings, lambda: bootstrap.db_connection(settings))
    for account in ACCOUNTS.values():
        commands.add_user(cli_principal("tests"), account.username, account.role, "", account.password)
    return ACCOUNTS


def signed_in(url: str, role: str) -> requests.Session:
    """A client signed in (through /login) as the account of ``role`` from ``ACCOUNTS``."""
    client = requests.Session()
    account = ACCOUNTS[role]
    reply = client.post(url + "/login", data={"username": account.username, "password": account.password},
                        allow_redirects=False, timeout=20)  # fmt: skip
    assert reply.status_code == 303, reply.text
    return client
