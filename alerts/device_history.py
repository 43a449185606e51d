"""The evaluator worker's side of per-device anomaly rules: write the closed device-hours now and then, and compute
the history once from the raw readings in a thread of its own (I/O; what is counted is ``alerts/device_hours.py``,
the SQL ``alerts/device_baselines.py``).

Neither is on the reading's path: the hours are written at a clock tick, at most every ``write_every_s`` (they close
within the first minute of an hour, so about one statement an hour), and a database away keeps them for the next
try; the back-fill may scan days of raw readings, so the evaluator goes on judging while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from alerts.device_baselines import BACKFILL_LIMIT, backfill_from_readings, write_hours
from alerts.device_hours import DeviceHours
from alerts.rules import Rule
from streams.backoff import Reconnecting

log = logging.getLogger(__name__)


class DeviceHistory:
    """Writes ``DeviceHours``' closed hours through the store's connection, and back-fills on its own connection."""

    def __init__(self, db: Reconnecting, connect_db: Callable[[], psycopg.Connection], write_every_s: float) -> None:
        self.db = db
        self.connect_db = connect_db
        self.write_every_s = write_every_s
        self.added = threading.Event()  # the back-fill wrote history: the baselines should be loaded again
        self._next_write = 0.0
        self._said = (0, 0)  # readings refused and hours dropped, as last logged
        self._backfill: threading.Thread | None = None

    def write(self, hours: DeviceHours, force: bool = False) -> bool:
        """Write the closed hours (at most every ``write_every_s`` unless ``force``) in one statement; returns
        whether nothing is left waiting. A database away keeps them for the next try (``DeviceHours`` bounds how
        many): they are history, and history can wait."""
        if not force and time.monotonic() < self._next_write:
            return True
        self._next_write = time.monotonic() + self.write_every_s
        said = (hours.refused, hours.dropped)
        if said != self._said and any(said):
            log.warning("alerts: per-device anomaly rules: %d readings of devices past the cap of %d not counted, "
                        "%d closed device-hours dropped (the database was away too long)", hours.refused,
                        hours.max_devices, hours.dropped)  # fmt: skip
        self._said = said
        pending = hours.pending()
        if not pending:
            return True
        try:
            self.db.once(lambda store: write_hours(store.conn, pending))
        except self.db.errors as exc:
            log.warning("alerts: %d device-hours not written (%s); kept for the next try", len(pending),
                        str(exc).strip()[:200])  # fmt: skip
            return False
        hours.written()
        return True

    def start_backfill(self, rules: list[Rule], started: float) -> None:
        """Once per leadership: the history of the per-device rules whose table holds none in their
        ``baseline_days``, from the raw readings before the hour the evaluator started counting (``started``)."""
        if not rules or (self._backfill is not None and self._backfill.is_alive()):
            return
        first_counted = datetime.fromtimestamp(started, UTC)
        self._backfill = threading.Thread(target=self._backfill_history, args=(rules, first_counted),
                                          name="alerts-device-history", daemon=True)  # fmt: skip
        self._backfill.start()

    def _backfill_history(self, rules: list[Rule], first_counted: datetime) -> None:
        try:
            with self.connect_db() as conn:
                for rule in rules:
                    written = backfill_from_readings(conn, rule, first_counted)
                    if written is None:
                        continue
                    log.info("alerts: %s: %d device-hours of history computed from the raw readings%s", rule.id,
                             written, " (the limit: some devices have fewer days)" if written >= BACKFILL_LIMIT
                             else "")  # fmt: skip
                    if written:
                        self.added.set()
        except psycopg.Error as exc:  # an outage, the statement timeout: the rules wait for min_history days
            log.warning("alerts: per-device history not computed from the raw readings (%s); those rules judge "
                        "once min_history days are counted", str(exc).strip()[:200])  # fmt: skip
