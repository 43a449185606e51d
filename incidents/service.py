"""The incidents' reads for the dashboard, each on a connection of its own (like ``alerts.service``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import psycopg

from incidents import queries
from incidents.timeline import TimelineItem, timeline


class IncidentDetail(NamedTuple):
    """One incident, its timeline, and its alerts as they are now."""

    incident: dict
    items: list[TimelineItem]
    alerts: list[dict]


class IncidentConsole:
    """What the incidents page, the map and the wall read; ``metrics`` is rule id → metric, for peak readings."""

    def __init__(self, connect: Callable[[], psycopg.Connection], metrics: Callable[[], Mapping[str, str]]) -> None:
        self._connect, self._metrics = connect, metrics

    def recent(self) -> list[dict]:
        """The newest incidents, open first."""
        with self._connect() as conn:
            return queries.incidents(conn)

    def active(self) -> list[dict]:
        """Open and monitoring incidents (map, wall)."""
        with self._connect() as conn:
            return queries.active(conn)

    def detail(self, incident_id: int) -> IncidentDetail | None:
        """One incident with its timeline in time order; None if there is no such incident."""
        with self._connect() as conn:
            incident = queries.incident(conn, incident_id)
            if incident is None:
                return None
            alerts = queries.member_alerts(conn, incident_id)
            peaks = queries.peak_readings(conn, alerts, self._metrics())
            return IncidentDetail(incident, timeline(queries.entries(conn, incident_id), peaks), alerts)
