"""The alert console's service: the console's reads and people's actions, each on a connection of its own.

The dashboard holds one of these (``bootstrap.DashboardServices.alerts``). Console traffic is a handful of
officers clicking, so a short-lived connection per call keeps this simple and never holds a connection idle
in a dashboard worker; the lifecycle rules stay in ``AlertStore`` and ``alerts.state``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import psycopg

from alerts import console
from alerts.store import AlertStore


class AlertConsole:
    """What the console reads and does; ``connect`` opens a connection in the IOC schema."""

    def __init__(self, connect: Callable[[], psycopg.Connection],
                 make_store: Callable[[psycopg.Connection], AlertStore]) -> None:  # fmt: skip
        self._connect = connect
        self._make_store = make_store

    # --- reads ---------------------------------------------------------------------------------------------
    def open_alerts(self) -> list[dict]:
        """Firing and acknowledged alerts, critical first, then newest."""
        with self._connect() as conn:
            return console.open_alerts(conn)

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

    # --- people's actions (the caller has resolved the actor: callbacks/authz.py) --------------------------
    def act(self, action: str, alert_id: int, actor: str, text: str | None) -> dict:
        """``acknowledge``/``resolve`` (``text`` an optional note), ``note`` (the note), ``assign`` (assignee)."""
        with self._connect() as conn:
            store = self._make_store(conn)
            if action == "acknowledge":
                return store.acknowledge(alert_id, actor, text or None)
            if action == "resolve":
                return store.resolve(alert_id, actor, text or None)
            if action == "note":
                return store.add_note(alert_id, actor, text or "")
            if action == "assign":
                return store.assign(alert_id, actor, text or None)
        raise ValueError(f"unknown alert action {action!r}")

    def create_silence(self, matchers: Mapping[str, str], starts_at: datetime, ends_at: datetime, actor: str,
                       comment: str) -> int:  # fmt: skip
        """A new silence; its id."""
        with self._connect() as conn:
            return console.create_silence(conn, matchers, starts_at, ends_at, actor, comment)

    def expire_silence(self, silence_id: int) -> bool:
        """End a silence now; False if it had already ended."""
        with self._connect() as conn:
            return console.expire_silence(conn, silence_id)
