"""The alert console: read open alerts, silences and dead letters; act on an alert as the signed-in officer.

Thin on purpose: an action is handed as it came to ``alerts.commands.AlertCommands.perform`` with the principal
the gate found for this request; the command checks the role and the arguments and records the change.
"""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from auth.command import Refused
from auth.roles import Permission
from auth.web import current_principal, requires
from callbacks.clicks import clicked
from layouts import alerts as view
from layouts import ids


def register(app: Dash, services) -> None:
    tz = services.settings.display_zone

    def perform(action: str, args: dict, changed: int | None) -> tuple[str, object]:
        try:
            done = services.alert_commands.perform(current_principal(), action, args)
        except Refused as refused:
            return str(refused), no_update
        return view.done_message(done), (changed or 0) + 1

    page_size = services.settings.console_page_size

    @app.callback(
        Output(ids.ALERTS_GRID, "rowData"),
        Output(ids.ALERTS_COUNTS, "children"),
        Output(ids.ALERTS_PAGE_TEXT, "children"),
        Output(ids.ALERTS_PAGE_PREV, "disabled"),
        Output(ids.ALERTS_PAGE_NEXT, "disabled"),
        Output(ids.ALERTS_SILENCES, "children"),
        Output(ids.ALERTS_DEAD, "children"),
        Input(ids.ALERTS_TICK, "n_intervals"),
        Input(ids.ALERTS_CHANGED, "data"),
        Input(ids.ALERTS_PAGE, "data"),
    )
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh(_n: int | None, _changed: int | None, page: object):
        console = services.alerts
        shown = console.open_alerts(_page_number(page), page_size)
        may_silence = current_principal().may(Permission.SILENCE_ALERTS)
        last = (shown.page + 1) * page_size >= shown.total
        return (
            view.alert_rows(shown.rows, tz),
            view.severity_counts(shown.counts),
            view.page_text(shown.page, page_size, len(shown.rows), shown.total),
            shown.page == 0,
            last,
            view.silences_table(console.silences(), tz, may_silence),
            view.dead_letters_table(console.dead_letters(), tz),
        )

    @app.callback(
        Output(ids.ALERTS_PAGE, "data"),
        Input(ids.ALERTS_PAGE_PREV, "n_clicks"),
        Input(ids.ALERTS_PAGE_NEXT, "n_clicks"),
        State(ids.ALERTS_PAGE, "data"),
        prevent_initial_call=True,
    )
    @requires(Permission.VIEW_DASHBOARDS)
    def turn_page(_prev: int | None, _next: int | None, page: object):
        if not clicked():
            return no_update
        step = 1 if ctx.triggered_id == ids.ALERTS_PAGE_NEXT else -1
        return max(0, _page_number(page) + step)  # past the last page, the console shows the last one

    @app.callback(Output(ids.ALERTS_RULES, "children"), Input(ids.ALERTS_CHANGED, "data"))
    @requires(Permission.VIEW_DASHBOARDS)
    def rules(_changed: int | None):
        return view.rules_table(services.alert_rules())

    @app.callback(
        Output(ids.ALERTS_SELECTED, "data"), Input(ids.ALERTS_GRID, "selectedRows"), prevent_initial_call=True
    )
    @requires(Permission.VIEW_DASHBOARDS)
    def select(rows: list[dict] | None):
        return rows[0]["id"] if rows else no_update

    @app.callback(
        Output(ids.ALERTS_DETAIL, "children"),
        Input(ids.ALERTS_SELECTED, "data"),
        Input(ids.ALERTS_CHANGED, "data"),
        Input(ids.ALERTS_TICK, "n_intervals"),
    )
    @requires(Permission.VIEW_DASHBOARDS)
    def detail(alert_id: int | None, _changed: int | None, _n: int | None):
        if not isinstance(alert_id, int) or isinstance(alert_id, bool):
            return view.detail_panel(None, [], [], tz)
        return view.detail_panel(*services.alerts.detail(alert_id), tz)

    @app.callback(Output(ids.ALERTS_ASSIGNEE, "options"), Input(ids.ALERTS_CHANGED, "data"))
    @requires(Permission.ACT_ON_ALERTS)
    def officers(_changed: int | None):
        return view.officer_options(services.alerts.officers())

    @app.callback(
        Output(ids.ALERTS_MESSAGE, "children"),
        Output(ids.ALERTS_CHANGED, "data", allow_duplicate=True),
        Input({"type": ids.ALERTS_ACTION, "action": ALL}, "n_clicks"),
        State(ids.ALERTS_SELECTED, "data"),
        State(ids.ALERTS_NOTE, "value"),
        State(ids.ALERTS_ASSIGNEE, "value"),
        State(ids.ALERTS_CHANGED, "data"),
        prevent_initial_call=True,
    )
    @requires(Permission.ACT_ON_ALERTS)
    def act(_clicks: list, alert_id: object, note: object, assignee: object, changed: int | None):
        if not clicked() or not isinstance(ctx.triggered_id, dict):
            return no_update, no_update
        return perform(
            str(ctx.triggered_id.get("action")), {"alert_id": alert_id, "note": note, "assignee": assignee}, changed
        )

    @app.callback(
        Output(ids.ALERTS_SILENCE_MESSAGE, "children"),
        Output(ids.ALERTS_CHANGED, "data", allow_duplicate=True),
        Input(ids.ALERTS_SILENCE_CREATE, "n_clicks"),
        Input({"type": ids.ALERTS_SILENCE_EXPIRE, "silence": ALL}, "n_clicks"),
        State(ids.ALERTS_SILENCE_MATCHERS, "value"),
        State(ids.ALERTS_SILENCE_STARTS_MIN, "value"),
        State(ids.ALERTS_SILENCE_HOURS, "value"),
        State(ids.ALERTS_SILENCE_COMMENT, "value"),
        State(ids.ALERTS_CHANGED, "data"),
        prevent_initial_call=True,
    )
    @requires(Permission.SILENCE_ALERTS)
    def silence(
        _create: int | None,
        _expires: list,
        matchers: object,
        starts_min: object,
        hours: object,
        comment: object,
        changed: int | None,
    ):
        if not clicked():
            return no_update, no_update
        trigger = ctx.triggered_id
        if isinstance(trigger, dict):
            return perform("expire_silence", {"silence_id": trigger.get("silence")}, changed)
        return perform(
            "silence",
            {
                "matchers": matchers,
                "starts_in_minutes": starts_min if starts_min is not None else 0,
                "hours": hours,
                "comment": comment,
            },
            changed,
        )


def _page_number(page: object) -> int:
    """The page a client asked for, as a small non-negative int (anything else: the first page)."""
    if isinstance(page, int) and not isinstance(page, bool) and 0 <= page <= 100_000:
        return page
    return 0
