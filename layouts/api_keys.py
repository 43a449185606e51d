"""The admin page's section on keys of the open-data API (/api/v1): pure builders over ``api_keys`` rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import dcc, html

from i18n.current import _
from layouts import ids
from layouts.tables import data_table, when


def api_keys_table(keys: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    """Every key (never its secret): scopes, limit, who issued it, last use, and Revoke while it is valid."""
    if not keys:
        return html.P(_("No API keys yet."), className="muted")
    rows = []
    for k in keys:
        revoked = k["revoked_at"] is not None
        button = html.Button(_("Revoke"), id={"type": ids.ADMIN_REVOKE_API_KEY, "key": k["name"]}, className="btn")
        rows.append([
            k["name"], html.Code(", ".join(k["scopes"])),
            _("{count} / min").format(count=k["requests_per_minute"]) if k["requests_per_minute"] else _("default"),
            _("{user} at {time}").format(user=k["created_by"], time=when(k["created_at"], timezone)),
            when(k["last_used_at"], timezone) or _("never"),
            _("revoked by {user}").format(user=k["revoked_by"]) if revoked else _("valid"), "" if revoked else button,
        ])  # fmt: skip
    return data_table([_("API key"), _("scopes"), _("limit"), _("issued"), _("last used"), _("status"), ""], rows,
                      ["revoked" if k["revoked_at"] else "" for k in keys], "admin-api-keys")  # fmt: skip


def api_keys_section(scopes: Mapping[str, str]) -> html.Section:
    """The keys, and a form to issue one (its secret is shown once)."""

    def field(label: str, control, control_id: str) -> html.Div:
        return html.Div([html.Label(label, htmlFor=control_id, id=f"{control_id}-label"), control],
                        className="form-field")  # fmt: skip

    issue = html.Div([
        field(_("key name"), dcc.Input(id=ids.ADMIN_API_KEY_NAME, maxLength=64, placeholder="bus-app-2026"),
              ids.ADMIN_API_KEY_NAME),
        field(_("scopes"), dcc.Checklist(id=ids.ADMIN_API_KEY_SCOPES, value=[], inline=True,
                                         options=[{"label": html.Code(s), "value": s} for s in scopes]),
              ids.ADMIN_API_KEY_SCOPES),
        field(_("requests per minute (empty: IOC_API_REQUESTS_PER_MINUTE)"),
              dcc.Input(id=ids.ADMIN_API_KEY_PER_MINUTE, type="number", min=1, max=100_000),
              ids.ADMIN_API_KEY_PER_MINUTE),
        html.Button(_("Issue API key"), id=ids.ADMIN_ISSUE_API_KEY, className="btn"),
    ], className="admin-form")  # fmt: skip
    return html.Section([
        html.H2(_("Open-data API keys")),
        html.P([_("Keys for developers to read the city's open data at"), " ", html.Code("/api/v1"), " (",
                html.A("/api/v1/docs", href="/api/v1/docs"), "). ",
                _("Each key reads only its scopes; revoking it stops it at its next request.")], className="muted"),
        html.Ul([html.Li([html.Code(s), ": ", _(text)]) for s, text in scopes.items()]),
        html.Div(id=ids.ADMIN_API_KEYS), html.H3(_("Issue an API key")), issue,
        html.Div(id=ids.ADMIN_API_KEY_MESSAGE, className="alerts-message", role="status"),
    ], className="panel")  # fmt: skip
