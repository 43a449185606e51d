"""A real local webhook receiver (http.server in a thread) and helpers for the alerting tests."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bootstrap
from settings import Settings, WebhookReceiver
from tests.integration.processes import REPO, settings_env

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, the spec's minimum


@dataclass
class Delivery:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def json(self) -> dict:
        return json.loads(self.body)


# Decides the answer to each request: (status, extra headers). It may block (to hold a delivery open).
Responder = Callable[[Delivery], tuple[int, dict[str, str]]]


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST; ``respond`` decides each answer."""

    port: int = 0
    respond: Responder = lambda delivery: (204, {})  # noqa: E731
    deliveries: list[Delivery] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                delivery = Delivery({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length),
                                    time.monotonic())  # fmt: skip
                receiver.deliveries.append(delivery)
                status, headers = receiver.respond(delivery)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ioc"

    def ids(self) -> list[str]:
        return [d.message_id for d in self.deliveries]


class Stalling:
    """A TCP server on 127.0.0.1 that accepts every connection and never completes an answer.

    ``trickle`` None: it says nothing at all. Otherwise it starts a 200 reply and then sends one byte of a
    header every ``trickle`` seconds, for ever: each read gets data in time, so only a deadline on the whole
    POST ends it.
    """

    def __init__(self, trickle: float | None = None) -> None:
        self.trickle = trickle
        self.connections: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = threading.Event()

    def start(self) -> Stalling:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            if self._stopped.is_set():
                conn.close()
            if self.trickle is not None:
                threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 200 OK\r\nx-slow: ")
            while not self._stopped.wait(self.trickle):
                conn.sendall(b"a")

    def stop(self) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone would leave it listening
        self._listener.close()
        for conn in self.connections:
            with contextlib.suppress(OSError):
                conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ioc"


def with_receivers(settings: Settings, *receivers: Receiver | Stalling, **overrides: object) -> Settings:
    """Settings whose webhooks go to these local receivers (127.0.0.1 allowed)."""
    configured = tuple(WebhookReceiver(name=f"r{i}", url=r.url, secret=SECRET) for i, r in enumerate(receivers))
    return settings.model_copy(update={"alert_receivers": configured, "alert_webhook_allowed_hosts": ("127.0.0.1",),
                                       **overrides})  # fmt: skip


def alerts_env(settings: Settings) -> dict[str, str]:
    """The environment reproducing ``settings`` in a child process, receivers' secrets included."""
    env = settings_env(settings)
    env["IOC_ALERT_RECEIVERS"] = json.dumps([{**r.model_dump(), "secret": r.secret.get_secret_value()}
                                             for r in settings.alert_receivers])  # fmt: skip
    env["IOC_ALERT_WEBHOOK_ALLOWED_HOSTS"] = ",".join(settings.alert_webhook_allowed_hosts)
    return env


def start_alerts(settings: Settings, *args: str, log: Path | None = None) -> subprocess.Popen:
    """`ioc alerts run` as a real process."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    return subprocess.Popen([sys.executable, "-m", "cli.main", "alerts", "run", *args], cwd=REPO,
                            env=alerts_env(settings), stdout=out, stderr=subprocess.STDOUT)  # fmt: skip


def write_rules(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


__all__ = ["Receiver", "Stalling", "Delivery", "SECRET", "with_receivers", "alerts_env", "start_alerts", "write_rules"]


class MovedClock:
    """The wall clock plus an offset the test sets; it counts its reads (the evaluator reads it at every tick)."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return time.time() + self.offset


@contextlib.contextmanager
def evaluator_on_clock(settings: Settings) -> Iterator[MovedClock]:
    """An alert evaluator of ``settings`` in a thread, on a clock the test moves instead of waiting."""
    clock, stop = MovedClock(), threading.Event()
    worker = bootstrap.alert_evaluator(settings)
    worker.clock = clock
    worker.ensure_groups()
    thread = threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True)
    thread.start()
    try:
        yield clock
    finally:
        stop.set()
        thread.join(10)
