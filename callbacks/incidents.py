"""The incidents page: read the list and one incident's timeline; act on it as the signed-in officer.

Thin on purpose: an action goes as it came to ``incidents.commands.IncidentCommands.perform`` with the principal
the gate found for this request; the command checks the role, the arguments and the state, and records it.
"""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from auth.command import Refused
from auth.roles import Permission
from auth.web import current_principal, requires
from callbacks.clicks import clicked
from layouts import ids
from layouts import incidents as view


def register(app: Dash, services) -> None:
    tz = services.settings.display_zone

    @app.callback(Output(ids.INCIDENTS_LIST, "children"), Input(ids.INCIDENTS_TICK, "n_intervals"),
                  Input(ids.INCIDENTS_CHANGED, "data"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def listing(_n: int | None, _changed: int | None):
        return view.incidents_table(services.incidents.recent(), tz)

    @app.callback(Output(ids.INCIDENTS_DETAIL, "children"), Input(ids.INCIDENTS_SELECTED, "data"),
                  Input(ids.INCIDENTS_CHANGED, "data"), Input(ids.INCIDENTS_TICK, "n_intervals"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def detail(incident_id: object, _changed: int | None, _n: int | None):
        valid = isinstance(incident_id, int) and not isinstance(incident_id, bool) and 0 < incident_id < 2**63
        shown = services.incidents.detail(incident_id) if valid else None
        return view.detail_panel(shown, tz, current_principal().may(Permission.READ_COMPLAINT_TEXT))

    @app.callback(
        Output(ids.INCIDENTS_MESSAGE, "children"),
        Output(ids.INCIDENTS_CHANGED, "data", allow_duplicate=True),
        Input({"type": ids.INCIDENTS_ACTION, "action": ALL, "state": ALL}, "n_clicks"),
        State(ids.INCIDENTS_SELECTED, "data"),
        State(ids.INCIDENTS_NOTE, "value"),
        State(ids.INCIDENTS_CHANGED, "data"),
        prevent_initial_call=True,
    )
    @requires(Permission.ACT_ON_INCIDENTS)
    def act(_clicks: list, incident_id: object, note: object, changed: int | None):
        if not clicked() or not isinstance(ctx.triggered_id, dict):
            return no_update, no_update
        args = {"incident_id": incident_id, "state": ctx.triggered_id.get("state") or None, "note": note}
        try:
            done = services.incident_commands.perform(current_principal(), str(ctx.triggered_id.get("action")), args)
        except Refused as refused:
            return str(refused), no_update
        return view.done_message(done), (changed or 0) + 1
