"""The IOC dashboard: a Dash app with one module per page under `pages/`.

`gunicorn app:server` serves it. Building the app reads the settings but connects to nothing: clients are made
by ``bootstrap`` on first use, so tests can build the app against their own services. Every request passes
``auth.web``'s gate first (docs/SECURITY.md): nothing but /login, /healthz and /readyz answers without a session
(/metrics checks its own token or address list: ``ops.dashboard``; /api/v1 its API keys: ``api.routes``; the
Open311 reads under /open311/ are public when IOC_OPEN311_ENABLED and limit themselves per address:
docs/OPEN311.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import dash
from dash import Dash
from flask import jsonify, redirect, request, send_file

import bootstrap
from api import routes as api_routes
from auth import headers as security_headers
from auth import web as auth_web
from auth.roles import Permission
from auth.web import current_principal
from callbacks import register_callbacks
from i18n import web as i18n_web
from layouts.shell import app_shell, not_allowed, page_permission
from open311 import routes as open311_routes
from ops import dashboard as ops_routes
from serving import compression
from serving.first_page import opened_page, page_container
from serving.page_scripts import data_preloads, scripts_for
from settings import Settings, load_settings

HERE = Path(__file__).resolve().parent


def create_app(settings: Settings | None = None) -> Dash:
    """The dashboard for ``settings`` (read from the environment when not given)."""
    settings = settings or load_settings()
    app = Dash(
        __name__, use_pages=True, pages_folder=str(HERE / "pages"), assets_folder=str(HERE / "assets"),
        title="City IOC", suppress_callback_exceptions=True, update_title=None, serve_locally=True,
    )  # fmt: skip
    # /assets URLs carry Dash's ?m=<mtime> stamp, so browsers may keep them; component suites are fingerprinted
    # and Dash already marks those cacheable for a year.
    app.server.config["SEND_FILE_MAX_AGE_DEFAULT"] = settings.static_max_age_s
    # Dash's own requests are a few kilobytes; a body past this is refused (413) before anything parses it.
    app.server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    # A function: Dash calls it per page load, so the header shows this person's pages and name, and the page
    # the browser opened is in it already (serving/first_page.py).
    app.layout = lambda: app_shell(current_principal(), page_container(
        opened_page(request.referrer, request.host_url), app.strip_relative_path))
    _guard_pages()
    _serialise_first_request_setup(app)
    _page_scripts(app)
    services = bootstrap.DashboardServices(settings)
    auth_web.install(app, services, api_routes.install(app, services),  # /api/v1: keys, not sessions
                     open311_routes.public_prefixes(settings))
    i18n_web.install(app, services)  # after the gate: the person's own language needs to know who asks
    security_headers.install(app, settings.map_tile_url)
    compression.install(app.server, settings.compressed_static_cache_mb * 1_048_576)
    register_callbacks(app, services)
    ops_routes.install(app, services)  # /readyz, /metrics, requests and callback latency counted
    open311_routes.install(app, services)  # /open311/…: GeoReport v2 reads of the city's service requests

    @app.server.get("/geo/districts.geojson")
    def districts():  # the outlines every live map draws, cached by the browser instead of sent per callback
        return send_file(settings.districts_geojson, mimetype="application/geo+json",
                         max_age=settings.static_max_age_s)  # fmt: skip

    @app.server.get("/alerts/<int:alert_id>")
    def alert_link(alert_id: int):  # the link in every webhook: the console with that alert selected
        return redirect(f"/alerts?alert={alert_id}")

    @app.server.get("/incidents/<int:incident_id>")
    def incident_link(incident_id: int):  # the link in every incident webhook: that incident's timeline
        return redirect(f"/incidents?incident={incident_id}")

    @app.server.get("/healthz")
    def healthz():  # alive, and both backing services answer; /readyz also judges lag and the snapshot's age
        status = services.health()
        return jsonify(status), 200 if all(status.values()) else 503

    return app


def _guard_pages() -> None:
    """Each page's layout checks the permission its ``register_page`` names before building anything."""
    for page in dash.page_registry.values():
        if not getattr(page["layout"], "ioc_guarded", False):  # a second app in the process (tests)
            page["layout"] = _guarded(page["layout"], page["name"], page_permission(page))


def _guarded(layout: Callable[..., object], name: str, permission: Permission) -> Callable[..., object]:
    def guarded(**query: str) -> object:
        principal = current_principal()
        if principal is None or not principal.may(permission):
            return not_allowed(name, principal)
        return layout(**query)

    guarded.ioc_guarded = True  # type: ignore[attr-defined]
    return guarded


def _page_scripts(app: Dash) -> None:
    """Each page's HTML with only the component scripts it needs up front, and the layout and callbacks asked for
    while they load (serving/page_scripts.py)."""
    interpolate = app.interpolate_index
    preloads = data_preloads(app.get_relative_path)

    def interpolate_index(**parts: str) -> str:
        return interpolate(**{**parts, "css": preloads + parts["css"],
                              "scripts": scripts_for(request.path, parts["scripts"])})  # fmt: skip

    app.interpolate_index = interpolate_index


def _serialise_first_request_setup(app: Dash) -> None:
    """Run Dash's first-request setup under a lock, ahead of Dash's own hook.

    Dash marks the setup done before it has registered its scripts, so in a fresh gthread worker a second
    thread can serve /_dash-component-suites against an empty registry ("not a registered library", a 500
    and a blank page) while the first thread is still setting up; seen in bench/dashboard.py.
    """
    lock = threading.Lock()

    def setup() -> None:
        with lock:
            app._setup_server()  # idempotent: returns at once after the first call

    app.server.before_request_funcs.setdefault(None, []).insert(0, setup)


app = create_app()
server = app.server
