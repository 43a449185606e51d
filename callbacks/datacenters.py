"""Data centres: PUE, power and inlet temperatures per site over the chosen range."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Dash, Input, Output

from auth.roles import Permission
from auth.web import requires
from layouts import datacenters, ids
from layouts.time_range import window


def register(app: Dash, services) -> None:
    @app.callback(Output(ids.DATACENTERS_SUMMARY, "children"), Output(ids.DATACENTERS_PUE, "figure"),
                  Output(ids.DATACENTERS_POWER, "figure"), Output(ids.DATACENTERS_INLET, "figure"),
                  Input(ids.DATACENTERS_RANGE, "value"), Input(ids.DATACENTERS_TICK, "n_intervals"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh(choice: str | None, _n: int | None):
        since, until = window(choice, datetime.now(UTC))
        rows = services.queries.datacenter_series(since, until)
        span = datacenters.Span(since, until, services.queries.first_minute("datacenter"))
        target = services.settings.city_pack.file.kpi.pue_target
        return (datacenters.pue_summary(services.queries.datacenter_pue(since, until), target),
                datacenters.pue_figure(rows, target, span=span), datacenters.power_figure(rows, span),
                datacenters.inlet_figure(rows, span))  # fmt: skip
