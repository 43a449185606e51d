"""The alert console's reads, each on a connection of its own.

The dashboard holds one of these (``bootstrap.DashboardServices.alerts``). Console traffic is a handful of
officers, so a short-lived connection per call keeps this simple and never holds a connection idle in a
dashboard worker. People's actions do not pass here: they take the one command path, ``alerts.commands``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import psycopg

from alerts import console
from auth import store as accounts

# However a client pages, the console never reads past this many open alerts (page x page size).
MAX_OFFSET = 100_000


class AlertPage(NamedTuple):
    """One page of open alerts, and how many there are per severity in all."""

    rows: list[dict]
    counts: dict[str, int]
    page: int  # 0-based, after clamping to the pages that exist
    page_size: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class AlertConsole:
    """What the console reads; ``connect`` opens a connection in the IOC schema."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect

    # --- reads ---------------------------------------------------------------------------------------------
    def open_alerts(self, page: int, page_size: int) -> AlertPage:
        """Page ``page`` (0-based; past the last one: the last one) of the open alerts, critical first, then
        newest."""
        with self._connect() as conn:
            counts = console.open_alert_counts(conn)
            last = max(0, (sum(counts.values()) - 1) // page_size)
            page = min(max(0, page), last, MAX_OFFSET // page_size)
            return AlertPage(console.open_alerts(conn, page_size, page * page_size), counts, page, page_size)

    def detail(self, alert_id: int) -> tuple[dict | None, list[dict], list[dict]]:
        """One alert, its action history and its webhook deliveries."""
        with self._connect() as conn:
            alert = console.alert(conn, alert_id)
            if alert is None:
                return None, [], []
            return alert, console.alert_events(conn, alert_id), console.deliveries(conn, alert_id)

    def silences(self) -> list[dict]:
        """Silences in force or still to come."""
        with self._connect() as conn:
            return console.silences(conn)

    def dead_letters(self) -> list[dict]:
        """Webhook messages given up on, newest first."""
        with self._connect() as conn:
            return console.dead_letters(conn)

    def officers(self) -> list[dict]:
        """Who an alert may be assigned to: enabled operators and admins."""
        with self._connect() as conn:
            return accounts.active_officers(conn)

    def receiver_health(self) -> dict[str, dict[str, int]]:
        """Receiver → webhook messages by status."""
        with self._connect() as conn:
            return console.outbox_by_receiver(conn)
