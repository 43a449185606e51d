"""City packs: everything that makes the IOC one city rather than another (docs/CITIES.md)."""

from cities.pack import DEFAULT_CITY, CityPack, CityPackError, load_city, shipped_packs

__all__ = ["DEFAULT_CITY", "CityPack", "CityPackError", "load_city", "shipped_packs"]
