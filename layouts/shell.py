"""The frame around every page: a header with the pages this person may open and who is signed in."""

from __future__ import annotations

import dash
from dash import dcc, html

from auth.principal import Principal
from auth.roles import Permission, Role, may
from i18n.current import N_, _, language
from i18n.languages import LANGUAGES
from layouts import ids

ROLE_NAMES = {Role.VIEWER: N_("viewer"), Role.OPERATOR: N_("operator"), Role.ADMIN: N_("admin"),
              Role.DISPLAY: N_("display")}  # fmt: skip

DEFAULT_PERMISSION = Permission.VIEW_DASHBOARDS


def page_permission(page: dict) -> Permission:
    """The permission a page asks of its viewer (``permission=`` in ``register_page``)."""
    return Permission(page.get("permission", DEFAULT_PERMISSION))


def app_shell(principal: Principal | None, pages: html.Div | None = None) -> html.Div:
    """Header with the pages ``principal`` may open and a sign-out button, then ``pages``: the page container,
    with the opened page already in it (serving/first_page.py) or ``dash.page_container`` for the router to fill."""
    role = principal.role if principal else None
    links = [
        dcc.Link(_(page["name"]), href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if may(role, page_permission(page))
    ]
    return html.Div(
        [
            dcc.Location(id=ids.SHELL_LOCATION),
            html.Header(
                [
                    html.Span(_("City IOC"), className="brand"),
                    html.Nav(links, **{"aria-label": _("Pages")}),
                    _who(principal),
                ],
                className="shell-header",
            ),
            html.Main(dash.page_container if pages is None else pages, className="shell-main"),
        ]
    )


def _who(principal: Principal | None) -> html.Div:
    if principal is None:
        return html.Div(className="shell-user")
    parts: list = [
        html.Span(principal.shown_name, className="shell-user-name", id=ids.SHELL_USER),
        html.Span(role_name(principal.role), className="shell-user-role"),
    ]
    if principal.user_id is not None:
        parts.append(language_chooser())
    if principal.via == "session" and not principal.is_display:
        parts.append(
            html.Form(
                html.Button(_("Sign out"), type="submit", className="btn btn-quiet"),
                action="/logout",
                method="post",
                className="shell-signout",
            )
        )
    return html.Div(parts, className="shell-user")


def not_allowed(page_name: str, principal: Principal | None) -> html.Div:
    """What a page shows to someone whose role may not open it (its data callbacks refuse them as well)."""
    if principal:
        text = _("Your role ({role}) may not open this page.").format(role=role_name(principal.role))
    else:
        text = _("Nobody signed in may open this page.")
    return html.Div([html.H1(_(page_name)), html.P(text, className="muted")], className="not-allowed")


def role_name(role: Role | str) -> str:
    """A role as the header and the admin page name it, in the request's language."""
    try:
        return _(ROLE_NAMES[Role(role)])
    except ValueError:
        return str(role)


def language_chooser() -> html.Form:
    """One button per language; the server stores the choice on the person's account (``POST /language``) and
    sends the browser back to the page it came from."""
    current = language()
    buttons = [
        html.Button(name, type="submit", name="language", value=code, lang=code,
                    className="btn btn-quiet lang-choice" + (" lang-current" if code == current else ""),
                    **{"aria-pressed": "true" if code == current else "false"})
        for code, name in LANGUAGES.items()
    ]  # fmt: skip
    return html.Form(
        buttons,
        action="/language",
        method="post",
        className="shell-language",
        **{"aria-label": _("Language")},
    )
