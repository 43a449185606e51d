"""Response headers every answer of the dashboard carries: what a browser may load, run and frame for it.

The Content-Security-Policy is as strict as Dash allows, measured with the browser tests (a violation is a console
error there): scripts only from this site plus the hashes of Dash's own inline scripts (``Dash.csp_hashes``);
no ``eval``; styles also inline, because plotly, AG Grid and Leaflet write ``<style>`` elements at run time;
images from this site, ``data:``/``blob:`` URLs and the configured basemap's tile host; nothing may frame the
dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import flask
from dash import Dash

# Constant headers; the CSP is built per app (its script hashes and tile host).
FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # for browsers that predate frame-ancestors
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def tile_source(tile_url: str) -> str:
    """The CSP source of a basemap tile URL template (``https://{s}.tile.example.org/{z}/{x}/{y}.png`` →
    ``https://*.tile.example.org``); empty when there is no basemap or the template is not http(s)."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "tiles-subdomain"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.replace("tiles-subdomain", "*")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(script_hashes: Sequence[str], tile_url: str) -> str:
    """The policy for this app: its inline-script hashes, and the tile host when a basemap is configured."""
    tiles = tile_source(tile_url)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],  # Dash quotes them: 'sha256-…'
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *([tiles] if tiles else [])],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def install(app: Dash, tile_url: str) -> None:
    """Add the headers to every response of ``app``'s server (a route may set its own first)."""
    policy: list[str] = []  # computed at the first response: Dash adds inline scripts until it is set up

    def add_headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(content_security_policy(app.csp_hashes(), tile_url))
        response.headers.setdefault("Content-Security-Policy", policy[0])
        for name, value in FIXED_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.server.after_request(add_headers)
