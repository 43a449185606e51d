"""The waterfront of a city: the part of each district within a few hundred metres of the city's outline.

River and tide gauges stand along the water. A city pack's boundaries are clipped to the shoreline (New York's
are), so the outline of all districts together is, nearly everywhere, the shore; the few land borders with
neighbouring towns count too, which a simulation can live with. Gauges placed ``shore`` are spread over the
districts by the length of outline each has, then drawn uniformly from the district's band along it.
"""

from __future__ import annotations

import random

import shapely

from geo.city import CityMap

BAND_DEG = 0.003  # ~250-330 m at mid latitudes: a gauge stands on the bank, not out in the borough
_TOUCH_DEG = 1e-6


class ShoreBands:
    """Per district, the band along the city's outline, and how much outline it has."""

    def __init__(self, city: CityMap, band_deg: float = BAND_DEG) -> None:
        self._city = city
        outline = shapely.union_all([city.geometry(d.id) for d in city.districts]).boundary
        near = outline.buffer(band_deg)
        touching = outline.buffer(_TOUCH_DEG)
        self._bands: dict[str, shapely.Geometry] = {}
        self._lengths: dict[str, float] = {}
        for district in city.districts:
            geometry = city.geometry(district.id)
            self._lengths[district.id] = geometry.boundary.intersection(touching).length
            self._bands[district.id] = geometry.intersection(near)
            shapely.prepare(self._bands[district.id])

    def weights(self, ids: list[str]) -> list[float]:
        """Outline length per district of ``ids`` (area where no district touches the outline at all)."""
        lengths = [self._lengths[d] for d in ids]
        return lengths if any(lengths) else [self._city.geometry(d).area for d in ids]

    def random_point_in(self, district_id: str, rng: random.Random) -> tuple[float, float]:
        """A random ``(lon, lat)`` in the district's shore band (anywhere in the district if it has none)."""
        band = self._bands[district_id]
        if band.is_empty:
            return self._city.random_point_in(district_id, rng)
        west, south, east, north = band.bounds
        while True:
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if shapely.contains_xy(band, lon, lat):
                return lon, lat
