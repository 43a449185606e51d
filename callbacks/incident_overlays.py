"""Incidents on the city map's layer and the wall's panel (reads only; kept apart from the map's and wall's own
callbacks so other marks can be added beside them)."""

from __future__ import annotations

from dash import Dash, Input, Output

import bootstrap
from auth.roles import Permission
from auth.web import requires
from layouts import ids
from layouts.incident_overlays import incident_features, wall_panel


def register(app: Dash, services) -> None:
    @app.callback(Output(ids.MAP_LAYER_INCIDENTS, "data"), Input(ids.MAP_TICK, "n_intervals"))
    @requires(Permission.VIEW_DASHBOARDS)
    def map_incidents(_n: int | None):
        active = services.incidents.active()
        # An incident opened by a district-wide alert has no centre of its own: it is drawn at its district's.
        needs_centres = any(i["lat"] is None for i in active)
        return incident_features(active, bootstrap.district_centres(services.settings) if needs_centres else {})

    @app.callback(Output(ids.WALL_INCIDENTS, "children"), Input(ids.WALL_INCIDENTS_TICK, "n_intervals"))
    @requires(Permission.WATCH_WALL)
    def wall_incidents(_n: int | None):
        return wall_panel(services.incidents.active())
