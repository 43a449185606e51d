"""The resources of the open-data API an admin grants a key, one scope each (docs/API.md); the admin page shows
their descriptions in the reader's language."""

from __future__ import annotations

from i18n.mark import N_

SCOPES: dict[str, str] = {
    "kpis": N_("the city's KPIs now and over a range"),
    "districts": N_("district outlines (GeoJSON)"),
    "sensors": N_("sensors with their latest readings (positions coarsened)"),
    "history": N_("a metric's history by district or device"),
    "complaints": N_("complaint counts by district, category and hour (never their text)"),
    "datacenters": N_("data-centre PUE, energy-weighted"),
    "alerts": N_("open alerts (no notes, no names)"),
}
