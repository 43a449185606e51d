"""The webhook sender: claim a due outbox message, POST it signed, record the outcome; at least once.

A message is claimed by moving its ``next_attempt_at`` past the POST's deadline (a lease) in a short
transaction, ``FOR UPDATE SKIP LOCKED``; no row lock and no transaction is held while a receiver is being
waited for. Any number of senders (threads, processes, hosts) share the outbox without sending a message twice
at the same time. The outcome is written only if the lease is still ours (``next_attempt_at`` unchanged), so a
late sender cannot overwrite a newer attempt. A sender that dies mid-delivery (even by SIGKILL) leaves its
lease to expire, and the message is sent again, with the same ``webhook-id``: receivers deduplicate on it
(Standard Webhooks). Senders sleep on LISTEN/NOTIFY, so a new alert goes out within milliseconds of the commit
that queued it.

No receiver can stop deliveries: a POST has one deadline for connect, send, reply and body; each process sends
to one receiver on at most ``per_receiver`` threads; and anything that goes wrong with one message is an
attempt that failed, recorded and retried per the policy, never the end of a thread.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import psycopg
from psycopg import sql

from alerts import webhooks
from alerts.http_post import post
from alerts.metrics import sender_metrics
from alerts.retry import Outcome, RetryPolicy, decide
from alerts.store import outbox_channel
from settings import WebhookReceiver
from streams.backoff import delays

log = logging.getLogger(__name__)
IDLE_WAIT_MAX_S = 1.0  # also the longest a sender sleeps when a NOTIFY was missed (listener reconnecting)
LEASE_MARGIN_S = 5.0  # beyond the POST deadline, for writing the outcome; a dead sender's message waits this long

CLAIM = ("UPDATE alert_outbox SET next_attempt_at = clock_timestamp() + %(lease)s WHERE id = ("
         " SELECT id FROM alert_outbox WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()"
         " AND receiver <> ALL(%(busy)s::text[]) ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
         " RETURNING id, message_id, receiver, body, attempts,"
         " extract(epoch FROM clock_timestamp() - created_at), next_attempt_at")  # fmt: skip
NEXT_DUE = ("SELECT extract(epoch FROM min(next_attempt_at) - clock_timestamp()) FROM alert_outbox"
            " WHERE status = 'pending' AND receiver <> ALL(%(busy)s::text[])")  # fmt: skip
OURS = " WHERE id = %(id)s AND status = 'pending' AND next_attempt_at = %(lease_until)s"


class Claim(NamedTuple):
    """One message leased to this sender until ``lease_until``."""

    outbox_id: int
    message_id: str
    receiver: str
    body: str
    attempts: int
    age_s: float
    lease_until: datetime


class Sender:
    """Delivers the outbox of one schema to the configured receivers."""

    def __init__(self, connect_db: Callable[[], psycopg.Connection], schema: str,
                 receivers: Mapping[str, WebhookReceiver], allowed_hosts: tuple[str, ...], policy: RetryPolicy,
                 timeout_s: float, threads: int = 4, rng: random.Random | None = None,
                 per_receiver: int = 2) -> None:  # fmt: skip
        webhooks.check_receivers(receivers.values(), allowed_hosts)
        self._connect_db = connect_db
        self.schema = schema
        self.receivers = dict(receivers)
        self.allowed_hosts = allowed_hosts
        self.policy = policy
        self.timeout_s = timeout_s
        self.threads = threads
        self.per_receiver = min(per_receiver, threads)
        self._rng = rng or random.Random()
        self._wake = threading.Condition()
        self._generation = 0
        self._in_flight: Counter[str] = Counter()
        self._claiming = threading.Lock()
        self._workers: list[threading.Thread] = []
        self.metrics = sender_metrics()

    # --- one delivery --------------------------------------------------------------------------------
    def deliver_next(self, conn: psycopg.Connection) -> float:
        """Send one due message; returns 0 when it did, else the seconds until the next is due (capped)."""
        claim, idle = self._claim(conn)
        if claim is None:
            return idle
        try:
            started = time.monotonic()
            try:
                outcome = self._attempt(claim)
            except Exception as exc:  # a bug or a reply we did not foresee: one failed attempt, not a dead thread
                log.exception("webhook %s to %s: unexpected error", claim.message_id, claim.receiver)
                outcome = self._failed(claim, f"{type(exc).__name__}: {exc}")
            took_s = time.monotonic() - started
            with conn.transaction():
                self._record(conn, claim, outcome, claim.age_s + took_s)
            self.metrics.attempted(claim.receiver, outcome, took_s)
            if not outcome.delivered:
                log.warning("webhook %s to %s: %s", claim.message_id, claim.receiver, outcome.reason)
        finally:
            self._release(claim.receiver)
        return 0.0

    def _claim(self, conn: psycopg.Connection) -> tuple[Claim | None, float]:
        # One claim at a time per process, so the per-receiver count cannot be overtaken between the choice of
        # a receiver and the commit of the lease; a claim is one short statement.
        with self._claiming:
            busy = sorted(r for r, n in self._in_flight.items() if n >= self.per_receiver)
            lease = timedelta(seconds=self.timeout_s + LEASE_MARGIN_S)
            with conn.transaction():
                row = conn.execute(CLAIM, {"lease": lease, "busy": busy}).fetchone()
                if row is None:
                    due = conn.execute(NEXT_DUE, {"busy": busy}).fetchone()[0]
                    return None, IDLE_WAIT_MAX_S if due is None else min(IDLE_WAIT_MAX_S, max(0.01, float(due)))
            claim = Claim(*row[:5], float(row[5]), row[6])
            self._in_flight[claim.receiver] += 1
            return claim, 0.0

    def _release(self, receiver: str) -> None:
        with self._claiming:
            self._in_flight[receiver] -= 1
        self._poke()  # a thread waiting only because this receiver was busy may go now

    def _attempt(self, claim: Claim) -> Outcome:
        config = self.receivers.get(claim.receiver)
        if config is None:
            return Outcome(False, None, f"receiver {claim.receiver!r} is no longer configured")
        if not webhooks.host_allowed(config.url, self.allowed_hosts):
            return Outcome(False, None, f"receiver {claim.receiver!r}: host no longer on the allow-list")
        key = webhooks.signing_key(config.secret.get_secret_value())
        payload = claim.body.encode()
        headers = webhooks.headers(key, claim.message_id, int(time.time()), payload)
        try:
            status, retry_after = post(config.url, headers, payload, self.timeout_s)
        except Exception as exc:  # http.client lets more than OSError out of a malformed reply (ValueError, …)
            return self._failed(claim, f"{type(exc).__name__}: {exc}")
        return decide(self.policy, status=status, retry_after=retry_after, attempts=claim.attempts + 1,
                      age_s=claim.age_s, now=datetime.now(UTC), rng=self._rng)  # fmt: skip

    def _failed(self, claim: Claim, error: str) -> Outcome:
        outcome = decide(self.policy, status=None, retry_after=None, attempts=claim.attempts + 1,
                         age_s=claim.age_s, now=datetime.now(UTC), rng=self._rng)  # fmt: skip
        return outcome._replace(reason=f"{outcome.reason} {error}"[:500])

    @staticmethod
    def _record(conn: psycopg.Connection, claim: Claim, outcome: Outcome, age_s: float) -> None:
        ours = {"id": claim.outbox_id, "lease_until": claim.lease_until, "status": outcome.status,
                "error": outcome.reason}  # fmt: skip
        if outcome.delivered:
            query = ("UPDATE alert_outbox SET status = 'delivered', attempts = attempts + 1,"
                     " delivered_at = clock_timestamp(), last_status = %(status)s, last_error = NULL")  # fmt: skip
        elif outcome.retry_in_s is None:
            query = ("UPDATE alert_outbox SET status = 'dead', attempts = attempts + 1, last_status = %(status)s,"
                     " last_error = %(error)s")  # fmt: skip
        else:
            query = ("UPDATE alert_outbox SET attempts = attempts + 1, last_status = %(status)s,"
                     " last_error = %(error)s, next_attempt_at = clock_timestamp() + %(pause)s")  # fmt: skip
            ours["pause"] = timedelta(seconds=outcome.retry_in_s)
        if conn.execute(query + OURS, ours).rowcount == 0:
            log.warning("webhook %s to %s: the lease ran out and another sender took the message over; this "
                        "attempt (%s) is not recorded", claim.message_id, claim.receiver, outcome.reason)  # fmt: skip

    # --- the loops -----------------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool]) -> None:
        """Deliver until ``should_stop()``: ``threads`` delivery loops and one LISTEN loop that wakes them."""
        self._workers = [threading.Thread(target=self._deliver_loop, args=(should_stop,), name=f"alert-sender-{i}",
                                          daemon=True) for i in range(self.threads)]  # fmt: skip
        listener = threading.Thread(target=self._listen_loop, args=(should_stop,), name="alert-listen", daemon=True)
        for thread in (*self._workers, listener):
            thread.start()
        for thread in (*self._workers, listener):
            thread.join()

    def delivering(self) -> int:
        """How many delivery loops are alive (all ``threads`` of them while running)."""
        return sum(thread.is_alive() for thread in self._workers)

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
            except Exception:  # whatever it was, this loop is one of only a few: log it, start clean, go on
                conn = _close(conn)
                log.exception("sender: unexpected error; carrying on")
                time.sleep(next(waits))
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
            except Exception as exc:  # the database, or anything else: the delivery loops poll meanwhile
                conn = _close(conn)
                log.warning("sender: listener restarting (%s)", str(exc).strip()[:200])
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
