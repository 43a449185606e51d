"""Dash callbacks, one module per page; ``register_callbacks`` wires them to the app's services."""

from __future__ import annotations

from dash import Dash

from callbacks import (
    admin,
    alerts,
    api_keys,
    audit,
    city_map,
    complaints,
    datacenters,
    history,
    incident_overlays,
    incidents,
    live,
    pipeline,
    wall,
)
from callbacks.map_sensors import MapSensors


def register_callbacks(app: Dash, services) -> None:
    """Attach every page's callbacks, each closing over the shared services."""
    sensors = MapSensors()  # one cluster index per snapshot for the city map and the live maps alike
    pipeline.register(app, services)
    live.register(app, services, sensors)
    wall.register(app, services)
    city_map.register(app, services, sensors)
    incident_overlays.register(app, services)
    for page in (complaints, datacenters, history, alerts, incidents, admin, api_keys, audit):
        page.register(app, services)
