"""The admin page: accounts, display tokens, receivers. Each action is one call to ``auth.admin.AccessCommands``
with the signed-in principal; the command checks the role and records the change."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from auth.admin import Issued
from auth.command import Refused
from auth.roles import Permission
from auth.web import current_principal, requires
from callbacks.clicks import clicked
from i18n.current import _, unit
from layouts import admin as view
from layouts import ids
from layouts.shell import role_name


def register(app: Dash, services) -> None:
    settings = services.settings
    commands = lambda: services.access_commands  # noqa: E731 - built on first use, after gunicorn forked

    def run(action, changed: int | None, *args: object):
        """Run a command; its message (or refusal) and the bumped change counter."""
        try:
            result = action(current_principal(), *args)
        except Refused as refused:
            return str(refused), no_update
        return result, (changed or 0) + 1

    @app.callback(Output(ids.ADMIN_USERS, "children"), Output(ids.ADMIN_USER_PICK, "options"),
                  Input(ids.ADMIN_CHANGED, "data"))  # fmt: skip
    @requires(Permission.MANAGE_USERS)
    def users(_changed: int | None):
        rows = commands().users(current_principal())
        return view.users_table(rows, datetime.now(UTC), settings.display_zone), view.user_options(rows)

    @app.callback(Output(ids.ADMIN_USER_MESSAGE, "children"), Output(ids.ADMIN_CHANGED, "data"),
                  Input(ids.ADMIN_ADD_USER, "n_clicks"),
                  Input({"type": ids.ADMIN_USER_ACTION, "action": ALL}, "n_clicks"),
                  State(ids.ADMIN_NEW_USERNAME, "value"), State(ids.ADMIN_NEW_FULL_NAME, "value"),
                  State(ids.ADMIN_NEW_ROLE, "value"), State(ids.ADMIN_NEW_PASSWORD, "value"),
                  State(ids.ADMIN_USER_PICK, "value"), State(ids.ADMIN_USER_ROLE, "value"),
                  State(ids.ADMIN_CHANGED, "data"), prevent_initial_call=True)  # fmt: skip
    @requires(Permission.MANAGE_USERS)
    def change_user(_add, _actions, username, full_name, role, password, picked, new_role, changed):
        if not clicked():
            return no_update, no_update
        c = commands()
        trigger = ctx.triggered_id
        if trigger == ids.ADMIN_ADD_USER:
            message, bumped = run(c.add_user, changed, _text(username), _text(role), _text(full_name),
                                  _text(password) or None)  # fmt: skip
        else:
            action = trigger.get("action") if isinstance(trigger, dict) else None
            steps = {"role": (c.set_role, _text(new_role)), "disable": (c.disable,), "enable": (c.enable,),
                     "reset": (c.reset_password, None)}  # fmt: skip
            if action not in steps:
                return no_update, no_update
            command, *rest = steps[action]
            message, bumped = run(command, changed, _text(picked), *rest)
        return _said(message), bumped

    @app.callback(Output(ids.ADMIN_DISPLAYS, "children"), Input(ids.ADMIN_CHANGED, "data"))
    @requires(Permission.MANAGE_DISPLAYS)
    def displays(_changed: int | None):
        return view.displays_table(commands().displays(current_principal()), settings.display_zone)

    @app.callback(Output(ids.ADMIN_DISPLAY_MESSAGE, "children"),
                  Output(ids.ADMIN_CHANGED, "data", allow_duplicate=True),
                  Input(ids.ADMIN_ISSUE_DISPLAY, "n_clicks"),
                  Input({"type": ids.ADMIN_REVOKE_DISPLAY, "display": ALL}, "n_clicks"),
                  State(ids.ADMIN_DISPLAY_NAME, "value"), State(ids.ADMIN_DISPLAY_PLAYLIST, "value"),
                  State(ids.ADMIN_DISPLAY_INTERVAL, "value"), State(ids.ADMIN_DISPLAY_LANGUAGE, "value"),
                  State(ids.ADMIN_CHANGED, "data"), prevent_initial_call=True)  # fmt: skip
    @requires(Permission.MANAGE_DISPLAYS)
    def change_display(_issue, _revokes, name, playlist, interval, language, changed):
        if not clicked():
            return no_update, no_update
        c = commands()
        trigger = ctx.triggered_id
        if isinstance(trigger, dict):
            message, bumped = run(c.revoke_display, changed, _text(trigger.get("display")))
            said = _("Revoked {display}: its wall stops within {seconds}.").format(
                display=trigger.get("display"), seconds=unit(settings.display_recheck_s, "s"))
            return (said if bumped is not no_update else message), bumped
        views = [v for v in playlist if isinstance(v, str)] if isinstance(playlist, list) else []
        seconds = int(interval) if isinstance(interval, int | float) and not isinstance(interval, bool) else 0
        message, bumped = run(c.issue_display, changed, _text(name), views, seconds, _text(language))
        if isinstance(message, Issued):
            link = f"{settings.dashboard_url.rstrip('/')}/wall?token={message.secret}"
            said = _("Display {name}: open this link once on its screen.").format(name=message.name)
            once = _("Shown once: the token is stored hashed and cannot be shown again.")
            return view.issued_secret(said, link, once), bumped
        return message, bumped

    @app.callback(Output(ids.ADMIN_RECEIVERS, "children"), Input(ids.ADMIN_CHANGED, "data"))
    @requires(Permission.VIEW_RECEIVERS)
    def receivers(_changed: int | None):
        configured = [{"name": r.name, "url": r.url} for r in settings.alert_receivers]
        return view.receivers_table(configured, services.alerts.receiver_health())


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _said(result: object) -> object:
    """The message for a command's result: a made password shown once, or what changed."""
    if isinstance(result, Issued):
        return view.issued_secret(_("Password for {name}:").format(name=result.name), result.secret,
                                  _("Shown once: hand it over in person; it is stored hashed."))  # fmt: skip
    if isinstance(result, dict) and "username" in result:
        state = _("disabled") if result["disabled_at"] else _("enabled")
        return f"{result['username']}: {role_name(result['role'])}, {state}."
    return result
