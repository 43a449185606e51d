"""A point-in-district index: which district (by position in a list) holds a WGS-84 point, fast.

A shapely predicate on one point costs a few microseconds of call overhead, so the index first answers from a
grid of ~500 m cells laid over the city: a cell wholly inside one district answers at once; only a cell that a
border crosses asks shapely, and only about the one or two districts whose borders cross it. A point in no
district is snapped to the nearest border within ``snap_m`` metres (a shore gauge, a pier), found with an
STRtree of border segments in local metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely

CELL_DEG = 0.005
NEAR = -1  # a cell in no district but within snap distance of one: snap
MIXED = -2  # a cell a border crosses
FAR = -3  # a cell farther than snap distance from every district


def metres_per_degree(lat: float) -> tuple[float, float]:
    """(east, north) metres per degree of longitude and latitude at ``lat`` on the WGS-84 ellipsoid."""
    phi = math.radians(lat)
    east = 111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
    north = 111_132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    return east, north


class DistrictIndex:
    """Point → index of the district holding it, or of the nearest one within ``snap_m``, or ``None``."""

    def __init__(self, geometries: Sequence[shapely.Geometry], snap_m: float) -> None:
        self._geometries = list(geometries)
        for geometry in self._geometries:
            shapely.prepare(geometry)
        self.snap_m = snap_m
        west, south, east, north = shapely.total_bounds(self._geometries)
        self._lat0 = (south + north) / 2
        self._kx, self._ky = metres_per_degree(self._lat0)
        # A point beyond this frame is farther than snap_m from every district: no geometry needed.
        self._margin_x, self._margin_y = snap_m / self._kx, snap_m / self._ky
        self._west, self._south = west - self._margin_x - CELL_DEG, south - self._margin_y - CELL_DEG
        self._cols = math.ceil((east + self._margin_x + CELL_DEG - self._west) / CELL_DEG)
        self._rows = math.ceil((north + self._margin_y + CELL_DEG - self._south) / CELL_DEG)
        self._segments, self._segment_owner = self._border_segments()
        self._segment_tree = shapely.STRtree(self._segments)
        self._cells, self._candidates = self._classify_cells()
        self._cell_list: list[int] = self._cells.tolist()  # list indexing beats numpy on the scalar path

    def _project(self, lon: np.ndarray | float, lat: np.ndarray | float) -> tuple:
        return (lon - self._west) * self._kx, (lat - self._lat0) * self._ky

    def _border_segments(self) -> tuple[np.ndarray, np.ndarray]:
        """Every border edge as a two-point line in local metres, with the district it belongs to."""
        parts, owners = [], []
        for index, geometry in enumerate(self._geometries):
            for ring in shapely.get_rings(shapely.get_parts(geometry)):
                lon, lat = shapely.get_coordinates(ring).T
                x, y = self._project(lon, lat)
                xy = np.column_stack([x, y])
                parts.append(shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)))
                owners.append(np.full(len(xy) - 1, index))
        return np.concatenate(parts), np.concatenate(owners)

    def _classify_cells(self) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
        """Each cell: the district wholly holding it, ``NEAR``, ``FAR``, or ``MIXED`` with its candidates."""
        rows, cols = np.divmod(np.arange(self._rows * self._cols), self._cols)
        west = self._west + cols * CELL_DEG
        south = self._south + rows * CELL_DEG
        x0, y0 = self._project(west, south)
        x1, y1 = self._project(west + CELL_DEG, south + CELL_DEG)
        boxes = shapely.box(x0, y0, x1, y1)
        cell_idx, seg_idx = self._segment_tree.query(boxes, predicate="intersects")
        cells = np.full(len(rows), FAR, dtype=np.int64)
        near, _ = self._segment_tree.query(boxes, predicate="dwithin", distance=self.snap_m)
        cells[near] = NEAR
        for index, geometry in enumerate(self._geometries):
            inside = shapely.contains_xy(geometry, west + CELL_DEG / 2, south + CELL_DEG / 2)
            cells[inside] = index
        candidates: dict[int, set[int]] = {}
        for cell, owner in zip(cell_idx.tolist(), self._segment_owner[seg_idx].tolist(), strict=True):
            candidates.setdefault(cell, set()).add(owner)
        cells[list(candidates)] = MIXED
        return cells, {cell: tuple(sorted(owners)) for cell, owners in candidates.items()}

    def _cell(self, lon: float, lat: float) -> int | None:
        col = int((lon - self._west) / CELL_DEG)
        row = int((lat - self._south) / CELL_DEG)
        if 0 <= col < self._cols and 0 <= row < self._rows:
            return row * self._cols + col
        return None

    def locate(self, lon: float, lat: float) -> int | None:
        """The district index for one point (strictly inside, else snapped, else ``None``)."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        cell = self._cell(lon, lat)
        if cell is None:
            return None
        state = self._cell_list[cell]
        if state >= 0:
            return state
        if state == FAR:
            return None
        if state == MIXED:
            for index in self._candidates[cell]:
                if shapely.contains_xy(self._geometries[index], lon, lat):
                    return index
        return self._snap(lon, lat)

    def _snap(self, lon: float, lat: float) -> int | None:
        if self.snap_m <= 0:
            return None
        x, y = self._project(lon, lat)
        found = self._segment_tree.query_nearest(shapely.Point(x, y), max_distance=self.snap_m, all_matches=False)
        return int(self._segment_owner[found[0]]) if len(found) else None

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """District index per point, ``-1`` for none: the same answers as ``locate``, vectorised."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        result = np.full(lon.shape, -1, dtype=np.int64)
        col = np.floor((lon - self._west) / CELL_DEG)
        row = np.floor((lat - self._south) / CELL_DEG)
        framed = (col >= 0) & (col < self._cols) & (row >= 0) & (row < self._rows)  # NaN compares False
        cell = np.where(framed, row * self._cols + col, 0).astype(np.int64)
        state = np.where(framed, self._cells[cell], FAR)
        result[state >= 0] = state[state >= 0]
        pending = (state == MIXED) | (state == NEAR)
        for index, geometry in enumerate(self._geometries):
            if not pending.any():
                break
            hit = pending & (state == MIXED)
            hit[hit] = shapely.contains_xy(geometry, lon[hit], lat[hit])
            result[hit] = index
            pending &= ~hit
        if pending.any() and self.snap_m > 0:
            x, y = self._project(lon[pending], lat[pending])
            points, segments = self._segment_tree.query_nearest(
                shapely.points(x, y), max_distance=self.snap_m, all_matches=False
            )
            snapped = np.flatnonzero(pending)[points]
            result[snapped] = self._segment_owner[segments]
        return result
