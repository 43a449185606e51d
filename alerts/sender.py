"""The webhook sender: claim a due outbox message, POST it signed, record the outcome; at least once.

A message is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and its row stays locked while it is being sent,
so any number of senders (threads, processes, hosts) share the outbox without sending a message twice at the
same time. The outcome is written in the same transaction; a sender that dies mid-delivery (even by SIGKILL)
loses its connection, PostgreSQL rolls the claim back, and the message is sent again by whoever claims it next,
with the same ``webhook-id``: receivers deduplicate on it (Standard Webhooks). Senders sleep on LISTEN/NOTIFY,
so a new alert goes out within milliseconds of the commit that queued it.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from alerts import webhooks
from alerts.retry import Outcome, RetryPolicy, decide
from alerts.store import outbox_channel
from settings import WebhookReceiver
from streams.backoff import delays

log = logging.getLogger(__name__)
IDLE_WAIT_MAX_S = 1.0  # also the longest a sender sleeps when a NOTIFY was missed (listener reconnecting)
RESPONSE_READ_LIMIT = 65_536

CLAIM = ("SELECT id, message_id, receiver, body, attempts, extract(epoch FROM clock_timestamp() - created_at)"
         " FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()"
         " ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED")  # fmt: skip
NEXT_DUE = ("SELECT extract(epoch FROM min(next_attempt_at) - clock_timestamp()) FROM alert_outbox"
            " WHERE status = 'pending'")


def post(url: str, headers: Mapping[str, str], payload: bytes, timeout_s: float) -> tuple[int, str | None]:
    """POST without following redirects (a 3xx is a failure, per the spec); returns (status, Retry-After)."""
    parts = urlsplit(url)
    connection = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = connection(parts.hostname, parts.port, timeout=timeout_s)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=payload, headers=dict(headers))
        response = conn.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        return response.status, response.getheader("Retry-After")
    finally:
        conn.close()


class Sender:
    """Delivers the outbox of one schema to the configured receivers."""

    def __init__(self, connect_db: Callable[[], psycopg.Connection], schema: str,
                 receivers: Mapping[str, WebhookReceiver], allowed_hosts: tuple[str, ...], policy: RetryPolicy,
                 timeout_s: float, threads: int = 4, rng: random.Random | None = None) -> None:  # fmt: skip
        webhooks.check_receivers(receivers.values(), allowed_hosts)
        self._connect_db = connect_db
        self.schema = schema
        self.receivers = dict(receivers)
        self.allowed_hosts = allowed_hosts
        self.policy = policy
        self.timeout_s = timeout_s
        self.threads = threads
        self._rng = rng or random.Random()
        self._wake = threading.Condition()
        self._generation = 0

    # --- one delivery --------------------------------------------------------------------------------
    def deliver_next(self, conn: psycopg.Connection) -> float:
        """Send one due message; returns 0 when it did, else the seconds until the next is due (capped)."""
        with conn.transaction():
            row = conn.execute(CLAIM).fetchone()
            if row is None:
                due = conn.execute(NEXT_DUE).fetchone()[0]
                return IDLE_WAIT_MAX_S if due is None else min(IDLE_WAIT_MAX_S, max(0.01, float(due)))
            outbox_id, message_id, receiver, body, attempts, age = row
            started = time.monotonic()
            outcome = self._attempt(receiver, message_id, body.encode(), attempts + 1, float(age))
            age_after = float(age) + time.monotonic() - started
            self._record(conn, outbox_id, outcome, age_after)
            if not outcome.delivered:
                log.warning("webhook %s to %s: %s", message_id, receiver, outcome.reason)
        return 0.0

    def _attempt(self, receiver: str, message_id: str, payload: bytes, attempt: int, age_s: float) -> Outcome:
        config = self.receivers.get(receiver)
        if config is None:
            return Outcome(False, None, f"receiver {receiver!r} is no longer configured")
        if not webhooks.host_allowed(config.url, self.allowed_hosts):
            return Outcome(False, None, f"receiver {receiver!r}: host no longer on the allow-list")
        key = webhooks.signing_key(config.secret.get_secret_value())
        headers = webhooks.headers(key, message_id, int(time.time()), payload)
        status, retry_after, error = None, None, ""
        try:
            status, retry_after = post(config.url, headers, payload, self.timeout_s)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        outcome = decide(self.policy, status=status, retry_after=retry_after, attempts=attempt, age_s=age_s,
                         now=datetime.now(UTC), rng=self._rng)  # fmt: skip
        return outcome._replace(reason=f"{outcome.reason} {error}".strip()) if error else outcome

    @staticmethod
    def _record(conn: psycopg.Connection, outbox_id: int, outcome: Outcome, age_s: float) -> None:
        status_code = outcome.status
        if outcome.delivered:
            conn.execute("UPDATE alert_outbox SET status = 'delivered', attempts = attempts + 1,"
                         " delivered_at = clock_timestamp(), last_status = %s, last_error = NULL WHERE id = %s",
                         (status_code, outbox_id))  # fmt: skip
        elif outcome.retry_in_s is None:
            conn.execute("UPDATE alert_outbox SET status = 'dead', attempts = attempts + 1, last_status = %s,"
                         " last_error = %s WHERE id = %s", (status_code, outcome.reason, outbox_id))  # fmt: skip
        else:
            conn.execute("UPDATE alert_outbox SET attempts = attempts + 1, last_status = %s, last_error = %s,"
                         " next_attempt_at = clock_timestamp() + %s WHERE id = %s",
                         (status_code, outcome.reason, timedelta(seconds=outcome.retry_in_s), outbox_id))  # fmt: skip

    # --- the loops -----------------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool]) -> None:
        """Deliver until ``should_stop()``: ``threads`` delivery loops and one LISTEN loop that wakes them."""
        workers = [threading.Thread(target=self._deliver_loop, args=(should_stop,), name=f"alert-sender-{i}",
                                    daemon=True) for i in range(self.threads)]  # fmt: skip
        workers.append(threading.Thread(target=self._listen_loop, args=(should_stop,), name="alert-listen",
                                        daemon=True))  # fmt: skip
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()

    def _deliver_loop(self, should_stop: Callable[[], bool]) -> None:
        conn, waits = None, delays(0.2, 10.0)
        while not should_stop():
            try:
                if conn is None:
                    conn = self._connect_db()
                seen = self._generation
                idle = self.deliver_next(conn)
                waits = delays(0.2, 10.0)
                if idle:
                    with self._wake:
                        if self._generation == seen:
                            self._wake.wait(idle)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                conn = _close(conn)
                pause = next(waits)
                log.warning("sender: database unavailable (%s); retrying in %.1f s", str(exc).strip()[:200], pause)
                time.sleep(pause)
        _close(conn)

    def _listen_loop(self, should_stop: Callable[[], bool]) -> None:
        conn, waits = None, delays(0.2, 10.0)
        while not should_stop():
            try:
                if conn is None:
                    conn = self._connect_db()
                    conn.autocommit = True
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(outbox_channel(self.schema))))
                    self._poke()  # anything queued while we were not listening
                for _ in conn.notifies(timeout=0.5, stop_after=1):
                    self._poke()
            except (psycopg.OperationalError, psycopg.InterfaceError):
                conn = _close(conn)
                time.sleep(next(waits))
        _close(conn)

    def _poke(self) -> None:
        with self._wake:
            self._generation += 1
            self._wake.notify_all()


def _close(conn: psycopg.Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(psycopg.Error):
            conn.close()
    return None
