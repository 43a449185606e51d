"""Shared fixtures: the real city map and the parse context every parser test uses."""

from __future__ import annotations

import pytest

from settings import Settings
from streams.fields import ParseContext


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def city(settings: Settings):
    from geo.city import CityMap

    return CityMap.from_geojson(settings.districts_geojson, snap_m=settings.district_snap_m)


@pytest.fixture(scope="session")
def ctx(settings: Settings, city) -> ParseContext:
    return ParseContext(city=city, bounds=settings.city_bounds, max_field_bytes=settings.max_field_bytes,
                        max_future_skew_ms=settings.max_future_skew_s * 1000,
                        max_entry_fields=settings.entry_max_fields, max_entry_bytes=settings.entry_max_bytes)
