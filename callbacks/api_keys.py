"""The admin page's API keys: each action is one call to ``api.keys.ApiKeyCommands`` with the signed-in principal;
the command checks the role on the server and records the change in the audit trail."""

from __future__ import annotations

from dash import ALL, Dash, Input, Output, State, ctx, no_update

from auth.admin import Issued
from auth.command import Refused
from auth.roles import Permission
from auth.web import current_principal, requires
from callbacks.clicks import clicked
from i18n.current import _
from layouts import ids
from layouts.admin import issued_secret
from layouts.api_keys import api_keys_table


def register(app: Dash, services) -> None:
    settings = services.settings

    @app.callback(Output(ids.ADMIN_API_KEYS, "children"), Input(ids.ADMIN_CHANGED, "data"))
    @requires(Permission.MANAGE_API_KEYS)
    def keys(_changed: int | None):
        return api_keys_table(services.api_keys.keys(current_principal()), settings.display_zone)

    @app.callback(Output(ids.ADMIN_API_KEY_MESSAGE, "children"),
                  Output(ids.ADMIN_CHANGED, "data", allow_duplicate=True),
                  Input(ids.ADMIN_ISSUE_API_KEY, "n_clicks"),
                  Input({"type": ids.ADMIN_REVOKE_API_KEY, "key": ALL}, "n_clicks"),
                  State(ids.ADMIN_API_KEY_NAME, "value"), State(ids.ADMIN_API_KEY_SCOPES, "value"),
                  State(ids.ADMIN_API_KEY_PER_MINUTE, "value"), State(ids.ADMIN_CHANGED, "data"),
                  prevent_initial_call=True)  # fmt: skip
    @requires(Permission.MANAGE_API_KEYS)
    def change_key(_issue, _revokes, name, scopes, per_minute, changed):
        if not clicked():
            return no_update, no_update
        trigger = ctx.triggered_id
        try:
            if isinstance(trigger, dict):
                key = trigger.get("key") if isinstance(trigger.get("key"), str) else ""
                services.api_keys.revoke(current_principal(), key)
                return _("Revoked {key}: its next request is refused.").format(key=key), (changed or 0) + 1
            picked = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else []
            number = isinstance(per_minute, int | float) and not isinstance(per_minute, bool)
            limit = int(per_minute) if number else None
            issued = services.api_keys.issue(current_principal(), name if isinstance(name, str) else "", picked, limit)
        except Refused as refused:
            return str(refused), no_update
        return _shown_once(issued), (changed or 0) + 1


def _shown_once(issued: Issued):
    return issued_secret(_("API key {name}: give it to its developer now.").format(name=issued.name), issued.secret,
                         _("Shown once: it is stored hashed and cannot be shown again."))  # fmt: skip
