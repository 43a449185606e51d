"""The live snapshot's sensors clustered for maps, shared by the city map and the live maps of one process."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from geo.clusters import ClusterIndex, SensorPoints
from layouts import city_map
from live.snapshot import latest_devices

SENSORS_TTL_S = 10.0  # before the first snapshot, viewers within this many seconds share one read


# Cluster indexes kept per snapshot, one per combination of filters viewers chose: ~48 bytes a sensor each (about
# 10 MB at 200,000 sensors), so a client walking through filter combinations cannot grow a worker without bound.
MAX_FILTERS = 8


class MapSensors:
    """The sensors of the live snapshot, clustered per filter, shared by the viewers of one worker.

    An index per filter is built when the snapshot's sensor part moves (its digest), its zoom levels as viewers
    reach them; before the first snapshot exists the sensors are read from ``sensor_latest`` at most every
    ``SENSORS_TTL_S``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: tuple = ()
        self._read_at = float("-inf")
        self._sensors: list[dict] = []
        self._by_id: dict[str, dict] | None = None
        self._chosen: dict[tuple, tuple[ClusterIndex, dict]] = {}
        self._kinds: list[dict] | None = None

    def _replace(self, source: tuple, sensors: list[dict]) -> None:
        self._source, self._sensors, self._by_id, self._chosen, self._kinds = source, sensors, None, {}, None

    def _refresh(self, services) -> None:
        snapshot = services.snapshot()
        if snapshot is not None and "sensors" in snapshot.doc:
            source = ("snapshot", (snapshot.doc.get("digests") or {}).get("sensors") or snapshot.version)
            if self._source != source:
                self._replace(source, snapshot.doc["sensors"])
        elif time.monotonic() - self._read_at > SENSORS_TTL_S:
            self._read_at = time.monotonic()
            rows = services.queries.sensor_latest()
            self._replace(("db", self._read_at), latest_devices(rows, datetime.now(UTC), services.status_bands()))

    def chosen(self, services, kinds: tuple, districts: tuple) -> tuple[ClusterIndex, dict]:
        """The cluster index and the counts per status of the chosen sensors."""
        with self._lock:
            self._refresh(services)
            key = (kinds, districts)
            if key not in self._chosen:
                if len(self._chosen) >= MAX_FILTERS:
                    self._chosen.clear()
                chosen = city_map.filter_sensors(self._sensors, kinds, districts)
                points = SensorPoints.from_sensors(chosen, city_map.STATUS_CODE)
                index = ClusterIndex(points, services.settings.map_cluster_px, **city_map.CLUSTER_OPTIONS)
                self._chosen[key] = (index, city_map.status_counts(chosen))
            return self._chosen[key]

    def kind_options(self, services) -> list[dict]:
        """The kind filter's options: the kinds present."""
        with self._lock:
            self._refresh(services)
            if self._kinds is None:
                self._kinds = city_map.kind_options(self._sensors)
            return self._kinds

    def sensor(self, services, device_id: str) -> dict | None:
        """One sensor's entry (status and why), as the map shows it now."""
        with self._lock:
            self._refresh(services)
            if self._by_id is None:
                self._by_id = {s["id"]: s for s in self._sensors}
            return self._by_id.get(device_id)
