"""The alert console: read open alerts, silences and dead letters; act on an alert as the officer on duty.

Every state-changing callback first asks ``callbacks.authz.actor_for`` who is acting (and, later, whether
their role allows it); nothing is changed without an actor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask
from dash import ALL, Dash, Input, Output, State, ctx, no_update

from alerts.state import InvalidTransition
from alerts.store import AlertNotFound
from callbacks.authz import NotAllowed, actor_for, clean_name
from layouts import alerts as view
from layouts import ids


def register(app: Dash, services) -> None:
    settings = services.settings
    tz = settings.city_timezone

    def acting(typed: str | None, action: str):
        """The officer for ``action``, resolved server-side from this request."""
        return actor_for(flask.request.headers, typed, settings.trusted_user_header, action)

    def clicked() -> bool:
        """A button was clicked (not merely drawn: re-rendered buttons fire with ``n_clicks`` None)."""
        return bool(ctx.triggered_id) and bool(ctx.triggered and ctx.triggered[0]["value"])

    @app.callback(Output(ids.ALERTS_GRID, "rowData"), Output(ids.ALERTS_COUNTS, "children"),
                  Output(ids.ALERTS_SILENCES, "children"), Output(ids.ALERTS_DEAD, "children"),
                  Input(ids.ALERTS_TICK, "n_intervals"), Input(ids.ALERTS_CHANGED, "data"))  # fmt: skip
    def refresh(_n: int | None, _changed: int | None):
        console = services.alerts
        open_alerts = console.open_alerts()
        return (view.alert_rows(open_alerts, tz), view.severity_counts(open_alerts),
                view.silences_table(console.silences(), tz), view.dead_letters_table(console.dead_letters(), tz))

    @app.callback(Output(ids.ALERTS_RULES, "children"), Input(ids.ALERTS_CHANGED, "data"))
    def rules(_changed: int | None):
        return view.rules_table(services.alert_rules())

    @app.callback(Output(ids.ALERTS_SELECTED, "data"), Input(ids.ALERTS_GRID, "selectedRows"),
                  prevent_initial_call=True)  # fmt: skip
    def select(rows: list[dict] | None):
        return rows[0]["id"] if rows else no_update

    @app.callback(Output(ids.ALERTS_DETAIL, "children"), Input(ids.ALERTS_SELECTED, "data"),
                  Input(ids.ALERTS_CHANGED, "data"), Input(ids.ALERTS_TICK, "n_intervals"))  # fmt: skip
    def detail(alert_id: int | None, _changed: int | None, _n: int | None):
        if alert_id is None:
            return view.detail_panel(None, [], [], tz)
        return view.detail_panel(*services.alerts.detail(int(alert_id)), tz)

    @app.callback(Output(ids.ALERTS_OFFICER, "data"), Input(ids.ALERTS_OFFICER_SAVE, "n_clicks"),
                  Input(ids.ALERTS_OFFICER_INPUT, "n_submit"), State(ids.ALERTS_OFFICER_INPUT, "value"),
                  prevent_initial_call=True)  # fmt: skip
    def remember_officer(_clicks: int | None, _submit: int | None, typed: str | None):
        return clean_name(typed) or None

    @app.callback(Output(ids.ALERTS_OFFICER_SHOWN, "children"), Input(ids.ALERTS_OFFICER, "data"))
    def show_officer(typed: str | None):
        try:
            actor = acting(typed, "action")
        except NotAllowed as refused:
            return str(refused)
        via = " (signed in)" if actor.source == "header" else ""
        return f"Acting as {actor.name}{via}."

    @app.callback(Output(ids.ALERTS_MESSAGE, "children"), Output(ids.ALERTS_CHANGED, "data", allow_duplicate=True),
                  Input({"type": ids.ALERTS_ACTION, "action": ALL}, "n_clicks"),
                  State(ids.ALERTS_SELECTED, "data"), State(ids.ALERTS_OFFICER, "data"),
                  State(ids.ALERTS_NOTE, "value"), State(ids.ALERTS_ASSIGNEE, "value"),
                  State(ids.ALERTS_CHANGED, "data"), prevent_initial_call=True)  # fmt: skip
    def act(_clicks: list, alert_id: int | None, typed: str | None, note: str | None, assignee: str | None,
            changed: int | None):  # fmt: skip
        if not clicked():
            return no_update, no_update
        action = ctx.triggered_id["action"]
        try:
            actor = acting(typed, view.ACTIONS[action].lower())
        except NotAllowed as refused:
            return str(refused), no_update
        if alert_id is None:
            return "Select an alert first.", no_update
        if action == "note" and not (note or "").strip():
            return "Type the note first.", no_update
        text = clean_name(assignee) if action == "assign" else (note or "").strip()
        try:
            alert = services.alerts.act(action, int(alert_id), actor.name, text)
        except (InvalidTransition, AlertNotFound) as refused:
            return f"Refused: {refused}.", (changed or 0) + 1
        return f"{view.ACTIONS[action]}: alert #{alert['id']} is {alert['status']} ({actor.name}).", (changed or 0) + 1

    @app.callback(Output(ids.ALERTS_SILENCE_MESSAGE, "children"),
                  Output(ids.ALERTS_CHANGED, "data", allow_duplicate=True),
                  Input(ids.ALERTS_SILENCE_CREATE, "n_clicks"),
                  Input({"type": ids.ALERTS_SILENCE_EXPIRE, "silence": ALL}, "n_clicks"),
                  State(ids.ALERTS_SILENCE_MATCHERS, "value"), State(ids.ALERTS_SILENCE_STARTS_MIN, "value"),
                  State(ids.ALERTS_SILENCE_HOURS, "value"), State(ids.ALERTS_SILENCE_COMMENT, "value"),
                  State(ids.ALERTS_OFFICER, "data"), State(ids.ALERTS_CHANGED, "data"),
                  prevent_initial_call=True)  # fmt: skip
    def silence(_create: int | None, _expires: list, matchers: str | None, starts_min: float | None,
                hours: float | None, comment: str | None, typed: str | None, changed: int | None):  # fmt: skip
        trigger = ctx.triggered_id
        if not clicked():
            return no_update, no_update
        try:
            actor = acting(typed, "silence")
        except NotAllowed as refused:
            return str(refused), no_update
        if isinstance(trigger, dict):
            ended = services.alerts.expire_silence(int(trigger["silence"]))
            return (f"Silence #{trigger['silence']} expired ({actor.name})." if ended else "That silence had "
                    "already ended."), (changed or 0) + 1  # fmt: skip
        try:
            starts = datetime.now(UTC) + timedelta(minutes=float(starts_min or 0))
            silence_id = services.alerts.create_silence(view.parse_matchers(matchers), starts,
                                                        starts + timedelta(hours=float(hours or 0)), actor.name,
                                                        (comment or "").strip())  # fmt: skip
        except ValueError as refused:
            return f"Not created: {refused}.", no_update
        return f"Silence #{silence_id} created ({actor.name}).", (changed or 0) + 1
