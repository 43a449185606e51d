"""One webhook POST with one deadline for all of it: connect, TLS, send, status, headers and body.

Socket timeouts bound each operation, not the whole: a receiver sending one byte a second would hold a POST for
ever. A timer shuts the socket down when the deadline passes, which ends whatever is blocked on it.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

RESPONSE_READ_LIMIT = 65_536  # a receiver's reply body is read (to free the connection) up to this, and dropped


class DeadlinePassed(OSError):
    """The receiver did not give a complete answer within the POST's deadline."""


class _Deadline:
    """Shuts the connection's socket down when time is up, which ends any connect, TLS handshake, read or write
    blocked on it. Socket timeouts bound each operation, not the whole: a receiver sending one byte a second
    would hold a POST for ever. (Name resolution is not covered: ``getaddrinfo`` cannot be interrupted.)
    """

    def __init__(self, seconds: float, conn: http.client.HTTPConnection) -> None:
        self.seconds = seconds
        self.passed = False
        self._conn = conn
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def _cut(self) -> None:
        self.passed = True
        sock = self._conn.sock  # the plain socket during a TLS handshake, the TLS one after it
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def check(self) -> None:
        if self.passed:
            raise DeadlinePassed(f"no complete answer within {self.seconds:g} s")

    def cancel(self) -> None:
        self._timer.cancel()


def post(url: str, headers: Mapping[str, str], payload: bytes, deadline_s: float) -> tuple[int, str | None]:
    """POST, all of it within ``deadline_s``, without following redirects (a 3xx is a failure, per the spec).

    Returns (status, Retry-After); raises ``DeadlinePassed`` when time ran out.
    """
    parts = urlsplit(url)
    connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection(parts.hostname, parts.port, timeout=deadline_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = _Deadline(deadline_s, conn)
    try:
        conn.connect()
        deadline.check()  # a cut during connect found no socket to shut
        conn.request("POST", path, body=payload, headers=dict(headers))
        response = conn.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        deadline.check()  # the cut can land after the last byte: an answer counts only if it came in time
        return response.status, response.getheader("Retry-After")
    except Exception as exc:
        # A socket timeout is set to the whole deadline, so one firing means the deadline passed too, even when
        # the timer's thread (late on a busy machine) has not cut the socket yet: both are the same failure.
        if (deadline.passed or isinstance(exc, TimeoutError)) and not isinstance(exc, DeadlinePassed):
            raise DeadlinePassed(f"no complete answer within {deadline_s:g} s") from exc
        raise
    finally:
        deadline.cancel()
        conn.close()
