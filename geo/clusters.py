"""Sensors clustered on the server, per zoom level, for the part of the city a map shows.

A browser that receives every sensor and clusters them itself pays for all of them before it draws anything:
at 200,000 sensors the encoded points, their decoding and the cluster index took seconds on a small machine.
Here the sensors of one live snapshot are projected once (Web Mercator pixels at zoom 0) and, per integer zoom,
binned into square cells of ``radius_px`` screen pixels (the grid aggregation Elasticsearch's ``geotile_grid``
and most tile servers use). A cell of ``min_points`` or more sensors travels as one cluster with its count per
status, its mean position and its members' bounds; smaller cells travel as their sensors. A map then receives
only the cells and sensors in its view: a few hundred features whatever the size of the city.

Pure: numpy arrays in, a GeoJSON FeatureCollection out. Coarse levels are built lazily and kept, so an index is
built once per snapshot and filter and then answers every viewer of a dashboard process; street-level cells are
computed per answer from the sensors near the view, so what an index keeps stays small.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TILE_PX = 256  # Web Mercator: the world is 256 px wide at zoom 0
MAX_LAT = 85.05112878  # where Web Mercator ends
STATUS_CODES = 4  # normal, warning, critical, stale: a point's ``s`` (layouts.city_map.STATUSES)


@dataclass(frozen=True)
class SensorPoints:
    """The sensors as columns: id, position (WGS-84 degrees) and status code."""

    ids: np.ndarray  # object (str)
    lon: np.ndarray  # float64
    lat: np.ndarray  # float64
    status: np.ndarray  # int64, 0..3

    @classmethod
    def from_sensors(cls, sensors: Sequence[Mapping], status_code: Mapping[str, int]) -> SensorPoints:
        """Columns from snapshot entries (``id``, ``lat``, ``lon``, ``status``); an unknown status is stale."""
        stale = STATUS_CODES - 1
        return cls(
            ids=np.array([s["id"] for s in sensors], dtype=object),
            lon=np.fromiter((s["lon"] for s in sensors), dtype=np.float64, count=len(sensors)),
            lat=np.fromiter((s["lat"] for s in sensors), dtype=np.float64, count=len(sensors)),
            status=np.fromiter((status_code.get(s["status"], stale) for s in sensors), dtype=np.int64,
                               count=len(sensors)),
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.ids)


def world_pixels(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator pixel coordinates at zoom 0 (multiply by 2**zoom for another zoom), y growing southwards."""
    x = (lon + 180.0) / 360.0 * TILE_PX
    sin = np.sin(np.radians(np.clip(lat, -MAX_LAT, MAX_LAT)))
    y = (0.5 - np.log((1 + sin) / (1 - sin)) / (4 * math.pi)) * TILE_PX
    return x, y


@dataclass(frozen=True)
class _Level:
    """One zoom's cells: per cell its count per status, mean position and bounds; the sensors of small cells."""

    counts: np.ndarray  # (cells, 4) int64
    lon: np.ndarray  # mean lon per cell
    lat: np.ndarray
    west: np.ndarray
    south: np.ndarray
    east: np.ndarray
    north: np.ndarray
    small_members: np.ndarray  # indices (into the points) of the sensors in cells below ``min_points``


class ClusterIndex:
    """Clusters of one set of sensors at every zoom, answered for a view (bounds and zoom).

    Levels up to ``KEPT_ZOOM`` are built once over every sensor and kept: their cells are a kilometre or more,
    so a city has a few thousand at most. Deeper levels are built per answer from the sensors near the view
    only, which at those zooms are a small part of the city; keeping them would cost a cell per sensor per zoom.
    """

    KEPT_ZOOM = 12

    def __init__(self, points: SensorPoints, radius_px: float = 60, min_points: int = 3, max_zoom: int = 17):
        self.points = points
        self.radius_px = radius_px
        self.min_points = min_points
        self.max_zoom = max_zoom
        self._x, self._y = world_pixels(points.lon, points.lat)
        self._levels: dict[int, _Level] = {}
        self._lock = threading.Lock()

    def level(self, zoom: int, near: np.ndarray | None = None) -> _Level:
        """The cells at an integer zoom: kept ones up to ``KEPT_ZOOM``; deeper, from the ``near`` sensors."""
        if zoom > self.KEPT_ZOOM:
            return self._build(zoom, near if near is not None else np.arange(len(self.points)))
        with self._lock:
            if zoom not in self._levels:
                self._levels[zoom] = self._build(zoom, np.arange(len(self.points)))
            return self._levels[zoom]

    def _build(self, zoom: int, chosen: np.ndarray) -> _Level:
        scale = 2.0**zoom / self.radius_px
        cx = np.floor(self._x[chosen] * scale).astype(np.int64)
        cy = np.floor(self._y[chosen] * scale).astype(np.int64)
        keys = (cx << 32) | cy  # a cell index along each axis is below 2**31 up to zoom 24
        cells, cell_of_point, sizes = np.unique(keys, return_inverse=True, return_counts=True)
        cell_of_point = cell_of_point.reshape(-1)
        n = len(cells)
        p = self.points
        counts = np.bincount(cell_of_point * STATUS_CODES + p.status[chosen], minlength=n * STATUS_CODES)
        order = np.argsort(cell_of_point, kind="stable")
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])) if n else np.zeros(0, dtype=np.int64)
        lon_sorted, lat_sorted = p.lon[chosen][order], p.lat[chosen][order]

        def per_cell(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
            return ufunc.reduceat(values, starts) if n else np.zeros(0)

        return _Level(
            counts=counts.reshape(n, STATUS_CODES),
            lon=per_cell(np.add, lon_sorted) / np.maximum(sizes, 1),
            lat=per_cell(np.add, lat_sorted) / np.maximum(sizes, 1),
            west=per_cell(np.minimum, lon_sorted), east=per_cell(np.maximum, lon_sorted),
            south=per_cell(np.minimum, lat_sorted), north=per_cell(np.maximum, lat_sorted),
            small_members=chosen[(sizes < self.min_points)[cell_of_point]],
        )  # fmt: skip

    def features(self, bounds: Sequence[Sequence[float]] | None, zoom: float, max_points: int = 5_000) -> dict:
        """The clusters and single sensors in ``bounds`` (``[[south, west], [north, east]]``, ``None`` for
        everywhere) at ``zoom``, widened by a quarter of the view on each side so a short pan shows no gap.

        Past ``max_zoom`` every sensor in view is single, up to ``max_points``; beyond that the view stays
        clustered one level deeper, so no answer carries an unbounded list."""
        z = max(0, int(math.floor(zoom)))
        south, west, north, east = _widened(bounds)
        p = self.points
        in_view = (p.lat >= south) & (p.lat <= north) & (p.lon >= west) & (p.lon <= east)
        near = np.flatnonzero(in_view)
        if z > self.max_zoom and len(near) <= max_points:
            return _collection([], near, p)
        lv = self.level(min(z, self.max_zoom + 1), near)
        sizes = lv.counts.sum(axis=1)
        # a cell counts when its sensors' bounds meet the view: its mean may lie outside while members are inside
        cells_in_view = (lv.north >= south) & (lv.south <= north) & (lv.east >= west) & (lv.west <= east)
        clustered = cells_in_view & (sizes >= self.min_points)
        single = lv.small_members[in_view[lv.small_members]]
        clusters = [_cluster_feature(lv, int(i)) for i in np.flatnonzero(clustered)]
        return _collection(clusters, single[:max_points], p)


def _widened(bounds: Sequence[Sequence[float]] | None) -> tuple[float, float, float, float]:
    if not bounds:
        return -90.0, -180.0, 90.0, 180.0
    (south, west), (north, east) = bounds
    # every feature sent is a DOM node the browser lays out while zooming: a wider margin costs frames
    dlat, dlon = (north - south) / 4, (east - west) / 4
    return south - dlat, west - dlon, north + dlat, east + dlon


def _cluster_feature(lv: _Level, i: int) -> dict:
    counts = [int(c) for c in lv.counts[i]]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(float(lv.lon[i]), 6), round(float(lv.lat[i]), 6)]},
        "properties": {"cluster": True, "n": sum(counts), "c": counts,
                       # rounded outwards, so the bounds a click zooms to still hold every member
                       "b": [math.floor(float(lv.south[i]) * 1e6) / 1e6, math.floor(float(lv.west[i]) * 1e6) / 1e6,
                             math.ceil(float(lv.north[i]) * 1e6) / 1e6, math.ceil(float(lv.east[i]) * 1e6) / 1e6]},
    }  # fmt: skip


def _collection(clusters: list[dict], singles: np.ndarray, p: SensorPoints) -> dict:
    points = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(p.lon[i]), float(p.lat[i])]},
         "properties": {"id": p.ids[i], "s": int(p.status[i])}}
        for i in singles
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": clusters + points}
