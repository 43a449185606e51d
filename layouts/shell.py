"""The frame around every page: a header with the pages this person may open and who is signed in."""

from __future__ import annotations

import dash
from dash import dcc, html

from auth.principal import Principal
from auth.roles import Permission, may
from layouts import ids

DEFAULT_PERMISSION = Permission.VIEW_DASHBOARDS


def page_permission(page: dict) -> Permission:
    """The permission a page asks of its viewer (``permission=`` in ``register_page``)."""
    return Permission(page.get("permission", DEFAULT_PERMISSION))


def app_shell(principal: Principal | None) -> html.Div:
    """Header with the pages ``principal`` may open and a sign-out button, then ``dash.page_container``."""
    role = principal.role if principal else None
    links = [
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if may(role, page_permission(page))
    ]
    return html.Div(
        [
            dcc.Location(id=ids.SHELL_LOCATION),
            html.Header(
                [html.Span("City IOC", className="brand"), html.Nav(links, **{"aria-label": "Pages"}), _who(principal)],
                className="shell-header",
            ),
            html.Main(dash.page_container, className="shell-main"),
        ]
    )


def _who(principal: Principal | None) -> html.Div:
    if principal is None:
        return html.Div(className="shell-user")
    parts: list = [
        html.Span(principal.shown_name, className="shell-user-name", id=ids.SHELL_USER),
        html.Span(str(principal.role), className="shell-user-role"),
    ]
    if principal.via == "session" and not principal.is_display:
        parts.append(
            html.Form(
                html.Button("Sign out", type="submit", className="btn btn-quiet"),
                action="/logout",
                method="post",
                className="shell-signout",
            )
        )
    return html.Div(parts, className="shell-user")


def not_allowed(page_name: str, principal: Principal | None) -> html.Div:
    """What a page shows to someone whose role may not open it (its data callbacks refuse them as well)."""
    who = f"Your role ({principal.role})" if principal else "Nobody signed in"
    return html.Div(
        [html.H1(page_name), html.P(f"{who} may not open this page.", className="muted")], className="not-allowed"
    )
