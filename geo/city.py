"""The city's districts: names, boundaries, and which district a position falls in.

``CityMap`` is built once per process from the city pack's WGS-84 GeoJSON (``from_geojson``) and is then
read-only apart from its lookup cache. ``district_at`` sits on the ingest hot path: devices report again and
again from the same position, so answers are remembered per exact ``(lon, lat)``; a position not seen before
costs about a microsecond through the grid index of ``geo.index``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

from cities.districts import NAME_PREFIX, language_of
from geo.index import DistrictIndex

_MISSING = object()


@dataclass(frozen=True, slots=True)
class District:
    """One district: its stable id (what the IOC stores), names and official code (a national division code in
    China, ``boro_cd`` in New York). ``names`` has every language the source names it in; ``name_zh`` is "" where
    the source has no Chinese name."""

    id: str
    name_en: str
    name_zh: str
    adcode: str
    names: dict[str, str] = field(default_factory=dict, compare=False)


def _name_key(name: str) -> str:
    """Case, spaces, apostrophes and a trailing "district"/区 do not matter: "Bao'an District" is baoan."""
    key = name.strip().casefold().replace("'", "").replace("\u2019", "").replace(" ", "").replace("-", "")
    for suffix in ("district", "区"):
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    return key


class CityMap:
    """The districts of one city and fast point-in-district lookups."""

    def __init__(
        self,
        districts: Sequence[District],
        geometries: Sequence[shapely.Geometry],
        *,
        snap_m: float = 1000.0,
        cache_size: int = 100_000,
    ) -> None:
        if len(districts) != len(geometries) or not districts:
            raise ValueError("one geometry per district, and at least one district")
        self._districts = tuple(districts)
        self._ids = [d.id for d in self._districts]
        self._by_id = {d.id: i for i, d in enumerate(self._districts)}
        self._geometries = list(geometries)
        self._index = DistrictIndex(self._geometries, snap_m)
        self._bounds = tuple(float(b) for b in shapely.total_bounds(self._geometries))
        self._names: dict[str, str] = {}
        for d in self._districts:
            for name in (d.id, d.name_en, d.name_zh, d.adcode, *d.names.values()):
                if name:
                    self._names[_name_key(name)] = d.id
        self._cache: dict[tuple[float, float], str | None] = {}
        self._cache_size = cache_size
        self._boxes: dict[int, tuple[float, ...]] = {}

    @classmethod
    def from_geojson(cls, path: Path | str, *, snap_m: float = 1000.0, cache_size: int = 100_000) -> CityMap:
        """Read a FeatureCollection whose features carry ``id``, ``name_en``, maybe ``name_zh``, ``name_th``… and a
        code (``adcode`` or ``code``)."""
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_feature_collection(collection, snap_m=snap_m, cache_size=cache_size)

    @classmethod
    def from_feature_collection(cls, collection: Mapping, **options: float) -> CityMap:
        """Build from an already parsed GeoJSON FeatureCollection (pure: tests build small cities this way)."""
        districts, geometries = [], []
        for feature in collection["features"]:
            props = feature["properties"]
            names = {language_of(k): v for k, v in props.items() if k.startswith(NAME_PREFIX) and v}
            code = str(props.get("adcode") or props.get("code") or "")
            districts.append(District(props["id"], props["name_en"], names.get("zh", ""), code, names))
            geometries.append(shape(feature["geometry"]))
        return cls(districts, geometries, **options)  # type: ignore[arg-type]

    @property
    def districts(self) -> tuple[District, ...]:
        """Every district, in the file's order."""
        return self._districts

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north of all districts (WGS-84 degrees)."""
        return self._bounds  # type: ignore[return-value]

    @property
    def snap_m(self) -> float:
        """How far outside every district a position may be and still count for the nearest one."""
        return self._index.snap_m

    def geometry(self, district_id: str) -> shapely.Geometry:
        """The boundary of one district (for map layers and tests)."""
        return self._geometries[self._by_id[district_id]]

    def district_at(self, lon: float, lat: float) -> str | None:
        """The district holding the position, else the nearest within ``snap_m`` metres, else ``None``."""
        key = (lon, lat)
        found = self._cache.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        index = self._index.locate(lon, lat)
        found = None if index is None else self._ids[index]
        if len(self._cache) >= self._cache_size:
            # Dropping everything is O(1) amortised and keeps memory bounded; the hot positions return at once.
            self._cache.clear()
        self._cache[key] = found
        return found

    def districts_at(self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray) -> list[str | None]:
        """``district_at`` for many points at once (vectorised; bypasses the cache)."""
        indices = self._index.locate_many(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        ids = self._ids
        return [ids[i] if i >= 0 else None for i in indices.tolist()]

    def normalize_district(self, name: str) -> str | None:
        """The district id for an id, a name in any language (or its code), in any case; ``None`` if unknown."""
        found = self._names.get(name)
        if found is None:
            found = self._names.get(_name_key(name))
        return found

    def random_point_in(self, district_id: str, rng: random.Random) -> tuple[float, float]:
        """A uniformly random ``(lon, lat)`` strictly inside the district, drawn from ``rng`` (deterministic)."""
        index = self._by_id[district_id]
        geometry = self._geometries[index]
        box = self._boxes.get(index)
        if box is None:
            # A district's outline has thousands of vertices: its box is computed, and the polygon prepared for
            # point tests, once (the simulator draws a point per complaint; this was most of its time).
            shapely.prepare(geometry)
            box = self._boxes[index] = tuple(float(b) for b in geometry.bounds)
        west, south, east, north = box
        while True:  # the districts fill a fair share of their boxes, so a handful of tries suffice
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if shapely.contains_xy(geometry, lon, lat):
                return lon, lat
