"""Dash callbacks, one module per page; ``register_callbacks`` wires them to the app's services."""

from __future__ import annotations

from dash import Dash

from callbacks import admin, alerts, audit, city_map, complaints, datacenters, history, live, pipeline, wall


def register_callbacks(app: Dash, services) -> None:
    """Attach every page's callbacks, each closing over the shared services."""
    pipeline.register(app, services)
    live.register(app, services)
    wall.register(app, services)
    for page in (city_map, complaints, datacenters, history, alerts, admin, audit):
        page.register(app, services)
