"""The admin page (/admin): accounts, display tokens and webhook receivers; pure builders over store rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from dash import dcc, html

from auth.roles import DESCRIPTIONS, PERSON_ROLES
from i18n import current
from i18n.current import N_, _
from i18n.languages import LANGUAGES
from layouts import ids
from layouts.shell import role_name
from layouts.tables import data_table, when
from layouts.wall import VIEWS as WALL_VIEWS

USER_ACTIONS = {"role": N_("Set role"), "disable": N_("Disable"), "enable": N_("Enable"),
                "reset": N_("Reset password")}  # fmt: skip


def user_status(user: Mapping, now: datetime) -> str:
    """``enabled``, ``disabled`` or ``locked until …`` (repeated wrong passwords)."""
    if user["disabled_at"] is not None:
        return _("disabled")
    if user["locked_until"] is not None and user["locked_until"] > now:
        return _("locked until {time}").format(time=current.clock(user["locked_until"]))
    return _("enabled")


def users_table(users: Sequence[Mapping], now: datetime, timezone: str) -> html.Table | html.P:
    """Every account: name, role, status, how it signs in, last sign-in."""
    if not users:
        return html.P(_("No accounts yet."), className="muted")
    rows = [
        [
            u["username"],
            u["full_name"],
            role_name(u["role"]),
            user_status(u, now),
            _("password") if u["has_password"] else _("SSO proxy"),
            when(u["last_signin_at"], timezone) or _("never"),
            LANGUAGES.get(u.get("language") or "", _("default")),
        ]
        for u in users
    ]
    return data_table([_("user"), _("full name"), _("role"), _("status"), _("signs in with"), _("last sign-in"),
                       _("language")], rows, class_name="admin-users")  # fmt: skip


def user_options(users: Sequence[Mapping]) -> list[dict]:
    return [{"label": u["username"], "value": u["username"]} for u in users]


def issued_secret(what: str, secret: str, note: str) -> html.Div:
    """A password or display link shown once: it is stored only hashed and cannot be shown again."""
    return html.Div([html.P(what), html.Code(secret, className="issued-secret"), html.P(note, className="muted")],
                    className="issued")  # fmt: skip


def displays_table(displays: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    """Every display token: its playlist, who issued it, last use, and a Revoke button while it is valid."""
    if not displays:
        return html.P(_("No display tokens yet."), className="muted")
    rows = []
    for d in displays:
        revoked = d["revoked_at"] is not None
        button = html.Button(_("Revoke"), id={"type": ids.ADMIN_REVOKE_DISPLAY, "display": d["name"]},
                             className="btn")  # fmt: skip
        rows.append([
            d["name"], ", ".join(_(WALL_VIEWS.get(v, v)) for v in d["playlist"]), current.unit(d["interval_s"], "s"),
            _("{officer} at {time}").format(officer=d["created_by"], time=when(d["created_at"], timezone)),
            when(d["last_used_at"], timezone) or _("never"),
            LANGUAGES.get(d.get("language") or "", _("default")),
            _("revoked by {officer}").format(officer=d["revoked_by"]) if revoked else _("valid"),
            "" if revoked else button,
        ])  # fmt: skip
    return data_table([_("display"), _("playlist"), _("per view"), _("issued"), _("last used"), _("language"),
                       _("status"), ""], rows, ["revoked" if d["revoked_at"] else "" for d in displays],
                      "admin-displays")  # fmt: skip


def receivers_table(receivers: Sequence[Mapping], health: Mapping[str, Mapping[str, int]]) -> html.Table | html.P:
    """The webhook receivers in force (from IOC_ALERT_RECEIVERS; secrets never shown) and their outbox."""
    if not receivers:
        return html.P(_("No webhook receivers configured (IOC_ALERT_RECEIVERS): alerts are recorded only."),
                      className="muted")  # fmt: skip
    rows = [[r["name"], r["url"], *(str(health.get(r["name"], {}).get(s, 0)) for s in ("pending", "delivered", "dead"))]
            for r in receivers]  # fmt: skip
    return data_table(
        [_("receiver"), "URL", _("pending"), _("delivered"), _("dead")], rows, class_name="admin-receivers"
    )


def _field(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id, id=f"{control_id}-label"), control], className="form-field")


def _users_section() -> html.Section:
    roles = [{"label": role_name(r), "value": r.value} for r in PERSON_ROLES]
    add = html.Div([
        _field(_("user name"), dcc.Input(id=ids.ADMIN_NEW_USERNAME, maxLength=128), ids.ADMIN_NEW_USERNAME),
        _field(_("full name"), dcc.Input(id=ids.ADMIN_NEW_FULL_NAME, maxLength=80), ids.ADMIN_NEW_FULL_NAME),
        _field(_("role"), dcc.Dropdown(id=ids.ADMIN_NEW_ROLE, options=roles, value="viewer", clearable=False),
               ids.ADMIN_NEW_ROLE),
        _field(_("password (empty: make one)"), dcc.Input(id=ids.ADMIN_NEW_PASSWORD, type="password", maxLength=256),
               ids.ADMIN_NEW_PASSWORD),
        html.Button(_("Add account"), id=ids.ADMIN_ADD_USER, className="btn"),
    ], className="admin-form")  # fmt: skip
    manage = html.Div([
        _field(_("account"), dcc.Dropdown(id=ids.ADMIN_USER_PICK, options=[], placeholder=_("choose an account")),
               ids.ADMIN_USER_PICK),
        _field(_("new role"), dcc.Dropdown(id=ids.ADMIN_USER_ROLE, options=roles, placeholder=_("choose a role")),
               ids.ADMIN_USER_ROLE),
        *[html.Button(_(label), id={"type": ids.ADMIN_USER_ACTION, "action": action}, className="btn")
          for action, label in USER_ACTIONS.items()],
    ], className="admin-form")  # fmt: skip
    roles_help = html.Ul([html.Li([html.B(role_name(r)), f": {_(DESCRIPTIONS[r])}"]) for r in PERSON_ROLES])
    return html.Section([
        html.H2(_("Accounts")), roles_help, html.Div(id=ids.ADMIN_USERS),
        html.H3(_("Add an account")), add, html.H3(_("Change an account")), manage,
        html.Div(id=ids.ADMIN_USER_MESSAGE, className="alerts-message", role="status"),
    ], className="panel")  # fmt: skip


def _displays_section(views: Mapping[str, str], default_interval_s: int) -> html.Section:
    issue = html.Div([
        _field(_("display name"), dcc.Input(id=ids.ADMIN_DISPLAY_NAME, maxLength=64, placeholder="lobby-wall-1"),
               ids.ADMIN_DISPLAY_NAME),
        _field(_("views"), dcc.Checklist(id=ids.ADMIN_DISPLAY_PLAYLIST, value=list(views), inline=True,
                                         options=[{"label": _(title), "value": v} for v, title in views.items()]),
               ids.ADMIN_DISPLAY_PLAYLIST),
        _field(_("seconds per view"), dcc.Input(id=ids.ADMIN_DISPLAY_INTERVAL, type="number", min=5, max=3600,
                                                value=default_interval_s), ids.ADMIN_DISPLAY_INTERVAL),
        _field(_("language"), dcc.Dropdown(id=ids.ADMIN_DISPLAY_LANGUAGE, value="", clearable=False,
                                           options=[{"label": _("the city's default"), "value": ""},
                                                    *({"label": n, "value": c} for c, n in LANGUAGES.items())]),
               ids.ADMIN_DISPLAY_LANGUAGE),
        html.Button(_("Issue display token"), id=ids.ADMIN_ISSUE_DISPLAY, className="btn"),
    ], className="admin-form")  # fmt: skip
    return html.Section([
        html.H2(_("Wall displays")),
        html.P(_("A display token lets one wall screen without a keyboard show the wall: open its link once on that "
                 "screen; the token is exchanged for the screen's own session and leaves the address bar. Revoking "
                 "it stops that screen within a minute."), className="muted"),
        html.Div(id=ids.ADMIN_DISPLAYS), html.H3(_("Issue a display token")), issue,
        html.Div(id=ids.ADMIN_DISPLAY_MESSAGE, className="alerts-message", role="status"),
    ], className="panel")  # fmt: skip


def admin_layout(views: Mapping[str, str], default_interval_s: int, api_keys: html.Section | None = None) -> html.Div:
    """Accounts, display tokens, API keys (``layouts.api_keys``), receivers."""
    return html.Div([
        html.H1(_("Administration")),
        html.P([_("Every change here is recorded in the audit trail."), " ",
                dcc.Link(_("Open the audit trail"), href="/audit")], className="muted"),
        _users_section(),
        _displays_section(views, default_interval_s),
        *([api_keys] if api_keys is not None else []),
        html.Section([html.H2(_("Webhook receivers")), html.Div(id=ids.ADMIN_RECEIVERS)], className="panel"),
        dcc.Store(id=ids.ADMIN_CHANGED, data=0),
    ], className="admin-page")  # fmt: skip
