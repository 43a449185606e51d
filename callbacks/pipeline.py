"""Refresh the pipeline table from the ingest counters and the streams' group info."""

from __future__ import annotations

import time

from dash import Dash, Input, Output

from auth.roles import Permission
from auth.web import requires
from layouts import ids
from layouts.pipeline import pipeline_table


def register(app: Dash, services) -> None:
    @app.callback(Output(ids.PIPELINE_TABLE, "children"), Output(ids.PIPELINE_UPDATED, "children"),
                  Input(ids.PIPELINE_TICK, "n_intervals"))
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh(_n: int | None):
        status = services.pipeline_status()
        age = status["last_commit_age_s"]
        said = "no commit yet" if age is None else f"last commit {age:.0f} s ago"
        forgotten = status.get("forgotten_devices", 0)
        if forgotten:
            said += f" · {forgotten:,} device readings left current state (silent past IOC_DEVICE_FORGET_AFTER_HOURS)"
        return pipeline_table(status["streams"]), f"Updated {time.strftime('%H:%M:%S')} · {said}"
