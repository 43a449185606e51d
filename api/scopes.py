"""The resources of the open-data API an admin grants a key, one scope each (docs/API.md)."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "kpis": "the city's KPIs now and over a range",
    "districts": "district outlines (GeoJSON)",
    "sensors": "sensors with their latest readings (positions coarsened)",
    "history": "a metric's history by district or device",
    "complaints": "complaint counts by district, category and hour (never their text)",
    "datacenters": "data-centre PUE, energy-weighted",
    "alerts": "open alerts (no notes, no names)",
}
