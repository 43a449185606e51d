"""The page a browser opened, rendered into its first layout instead of by Dash's routing callback.

With ``use_pages`` Dash renders a page in a callback: the browser fetches the shell's layout, renders it, and only
then asks the router (a callback on ``_pages_location``) for the page, renders that, and only then runs the page's
own callbacks. The router's round trip and its render pass lie on every page's path to its first data (on the
map, ~0.1–0.3 s of its first clusters, docs/BENCHMARKS.md).

``/_dash-layout`` is fetched by the page itself, and the Referrer-Policy (``same-origin``, auth/headers.py) sends
its whole URL to our own origin: the path and query string the router would be sent. When it is there, the shell
carries that page already, and ``_pages_location`` starts with the same ``pathname`` and ``search`` as the
browser's address, so dcc.Location finds nothing to report when it mounts and the router, which Dash registers
with ``prevent_initial_call``, stays quiet. Moving between pages inside the app still goes through the router.
Without a usable Referer (stripped by a proxy, another origin, overlong), the page is routed as before.

The Referer is the browser's word, no more trusted than the router's inputs: it only chooses which registered
page to build and the query it is built with, exactly as the router would, through the same permission guard.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

import dash
from dash import dcc, html

MAX_REFERRER_CHARS = 4096  # a URL of the dashboard is short; a longer one is not rendered from


class Opened(NamedTuple):
    """Where the browser is: the address's path and its query string (``"?a=1"`` or ``""``)."""

    pathname: str
    search: str


def opened_page(referrer: str | None, host_url: str) -> Opened | None:
    """The page whose layout is asked for, from the request's Referer; None unless it is of ``host_url``'s
    origin (scheme, host and port) and of a sane length (pure)."""
    if not referrer or len(referrer) > MAX_REFERRER_CHARS:
        return None
    try:
        asked, ours = urlsplit(referrer), urlsplit(host_url)
    except ValueError:
        return None
    if (asked.scheme, asked.netloc) != (ours.scheme, ours.netloc) or not asked.path.startswith("/"):
        return None
    return Opened(asked.path, f"?{asked.query}" if asked.query else "")


def query_arguments(search: str) -> dict[str, Any]:
    """A query string as the router passes it to a page's layout: one value as a string, repeated ones as a list."""
    parsed = parse_qs(search.removeprefix("?"), keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def registered_page(path: str, strip_relative_path) -> dict | None:
    """The registered page at ``path`` (no page of ours has path variables); None for a path Dash would 404."""
    wanted = (strip_relative_path(path) or "").strip("/")
    for page in dash.page_registry.values():
        if not page.get("path_template") and page["path"].strip("/") == wanted:
            return page
    return None


def page_container(opened: Opened | None, strip_relative_path) -> html.Div:
    """``dash.page_container`` with the opened page already in it, or Dash's own (routed) when it cannot be."""
    page = registered_page(opened.pathname, strip_relative_path) if opened else None
    if page is None:
        return dash.page_container
    layout, title = page["layout"], page["title"]
    content = layout(**query_arguments(opened.search)) if callable(layout) else layout
    location, routed, store, dummy = dash.page_container.children  # the ids Dash's router and title callback use
    return html.Div([
        dcc.Location(id=location.id, refresh="callback-nav", pathname=opened.pathname, search=opened.search),
        html.Div(content, id=routed.id, disable_n_clicks=True),
        dcc.Store(id=store.id, data={"title": title() if callable(title) else title}),
        html.Div(id=dummy.id, disable_n_clicks=True),
    ])
