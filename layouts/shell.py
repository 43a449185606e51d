"""The frame around every page: a header with the page links, then the page container."""

from __future__ import annotations

import dash
from dash import dcc, html

from layouts import ids


def app_shell() -> html.Div:
    """Header with navigation, then ``dash.page_container``."""
    links = [dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
             for page in dash.page_registry.values()]
    return html.Div([
        dcc.Location(id=ids.SHELL_LOCATION),
        html.Header([html.Span("City IOC", className="brand"), html.Nav(links)], className="shell-header"),
        html.Main(dash.page_container, className="shell-main"),
    ])  # fmt: skip
