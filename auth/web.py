"""The dashboard's door: every HTTP request is let in here, as someone, or refused, before Dash sees it.

``install`` adds to the Flask server under Dash: a ``before_request`` gate, the sign-in page (``/login``),
sign-out (``/logout``), and the display-token exchange (``/wall?token=…``). The gate

* finds the principal: a session cookie, or the SSO proxy's header when the connection comes from a trusted
  proxy (``IOC_TRUSTED_PROXIES``); nobody else's header is believed;
* refuses a page to nobody (to /login), and any other request with 401 and a reason the browser can show;
* asks ``auth.roles`` whether the principal's role holds the permission the route or the Dash callback names
  (``requires``): callbacks are looked up by the output key of the request, unknown ones are refused;
* refuses a POST whose ``Origin`` is another site;
* hands every request under /api/ to the open-data API's own key check (``api.routes``), sessions aside.
* lets the public prefixes it is given through untouched (the Open311 reads, when IOC_OPEN311_ENABLED).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import flask
import psycopg
import redis
from dash import Dash
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.exceptions import HTTPException

from auth import audit
from auth.addresses import client_address, is_trusted, parse_networks
from auth.callback_body import body_problem
from auth.principal import Principal
from auth.roles import Permission
from auth.sessions import Refusal, SessionCheck
from i18n.current import N_, _, language
from i18n.languages import LANGUAGES

log = logging.getLogger(__name__)
SESSION_COOKIE = "ioc_session"
# /metrics is let through to its own check (a bearer token or an address list, ops/dashboard.py): Prometheus has
# no session.
OPEN_PATHS = frozenset({"/login", "/logout", "/healthz", "/readyz", "/metrics", "/favicon.ico", "/_favicon.ico",
                        "/assets/ioc_login.css"})
# Everything a wall display may fetch besides /wall itself and its callbacks.
DISPLAY_PREFIXES = ("/_dash-", "/assets/", "/geo/", "/_favicon.ico")
ROUTE_PERMISSIONS: tuple[tuple[str, Permission], ...] = (
    ("/audit.csv", Permission.READ_AUDIT),
    ("/geo/", Permission.WATCH_WALL),
    ("/alerts/", Permission.VIEW_DASHBOARDS),
)
PAGES_ROUTER = "_pages_content.children"  # Dash's own page router: each page's layout checks its own permission
# Marked for the catalogue here, translated where they are sent (the request's language).
REFUSALS: dict[str, str] = {
    Refusal.SIGNED_OUT: N_("Your session has ended. Sign in again."),
    Refusal.DISABLED: N_("This account is disabled. Ask an administrator."),
    Refusal.DISPLAY_REVOKED: N_("An administrator revoked this display's token: ask for a new display link."),
    Refusal.UNKNOWN_USER: N_("The sign-in proxy named a user this IOC does not know. Ask an administrator to add "
                             "them."),
}
UNAVAILABLE = N_("The IOC cannot check sign-ins right now (its database does not answer). Try again in a minute.")
F = TypeVar("F", bound=Callable[..., Any])
_templates = Environment(loader=PackageLoader("auth"), autoescape=select_autoescape(default=True))


def requires(permission: Permission) -> Callable[[F], F]:
    """Mark a Dash callback with the permission a request for it needs (the gate checks it, not the callback)."""

    def mark(func: F) -> F:
        func.ioc_permission = permission  # type: ignore[attr-defined]  # functools.wraps copies it to Dash's wrapper
        return func

    return mark


def current_principal() -> Principal | None:
    """Who the gate let in for this request (None outside a request)."""
    return flask.g.get("principal") if flask.has_request_context() else None


def callback_permissions(app: Dash) -> dict[str, Permission | None]:
    """Output key of every server callback → the permission it was marked with (None: unmarked, refused)."""
    table: dict[str, Permission | None] = {}
    for key, entry in app.callback_map.items():
        if PAGES_ROUTER in key:
            table[key] = Permission.WATCH_WALL
        else:
            table[key] = getattr(entry.get("callback"), "ioc_permission", None)
    return table


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//evil`` or ``https://…``)."""
    target = (raw or "/").strip()
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith(("//", "/\\"))
        or parts.scheme
        or parts.netloc
        or len(target) > 2000
        or any(ord(c) < 32 for c in target)
    ):
        return "/"
    return target


class Gate:
    """The ``before_request`` check and the sign-in routes, over the dashboard's services."""

    def __init__(self, app: Dash, services, api=None, public_prefixes: tuple[str, ...] = ()) -> None:
        self.app, self.services, self.settings = app, services, services.settings
        self.public_prefixes = public_prefixes
        self.proxies = parse_networks(self.settings.trusted_proxies)
        self._callbacks: dict[str, Permission | None] = {}
        self.api = api  # the open-data API's own key check (api/routes.py), or None: no API on this server

    # --- who is asking ----------------------------------------------------------------------------------------------
    def address(self) -> str:
        request = flask.request
        return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), self.proxies)

    def identify(self) -> SessionCheck:
        request = flask.request
        header = self.settings.trusted_user_header
        if header and is_trusted(request.remote_addr, self.proxies) and request.headers.get(header):
            return self.services.access.proxy_user(request.headers.get(header), self.address())
        return self.services.access.check_session(request.cookies.get(SESSION_COOKIE), self.address())

    # --- the gate ---------------------------------------------------------------------------------------------------
    def check(self) -> flask.Response | None:
        """Let the request through (None) or answer it here."""
        request = flask.request
        path = request.path
        if path in OPEN_PATHS:
            return None
        if path == "/api" or path.startswith("/api/"):
            # The API lets a request in by its key alone, and a key opens nothing else: it is never read here, so
            # it reaches no page or callback; a session opens no API.
            return self.api.check(self.address()) if self.api else _refuse(404, "not_found", "No API here.")
        if path.startswith(self.public_prefixes):  # public reads that change nothing and limit themselves
            return None
        if request.method not in ("GET", "HEAD") and not self._same_origin():
            return _refuse(403, "cross_origin", _("Refused: this request came from another site."))
        if (request.content_length or 0) > self.settings.max_request_bytes:
            return _refuse(413, "too_large", _("Refused: a request body is at most {limit} bytes.").format(
                limit=f"{self.settings.max_request_bytes:,}"))  # fmt: skip
        if path == "/wall" and "token" in request.args:
            return self.exchange_display_token()
        try:
            check = self.identify()
        except (psycopg.Error, redis.RedisError):
            log.exception("cannot check who is asking for %s", path)
            return _refuse(503, "unavailable", _(UNAVAILABLE))
        principal = check.principal
        if principal is None:
            return self._not_signed_in(check.refusal or Refusal.SIGNED_OUT)
        flask.g.principal = principal
        if principal.is_display and not (path == "/wall" or path.startswith(DISPLAY_PREFIXES)):
            return flask.redirect("/wall", 303) if self._is_page(path) else _refuse(403, "forbidden", _("Wall only."))
        needed = self._permission(path)
        if needed is None:
            return _refuse(403, "forbidden", _("Refused: unknown request."))
        if not principal.may(needed):
            self._record_denial(principal, needed, path)
            return _refuse(403, "forbidden", _("Your role ({role}) may not do this ({needed}).").format(
                role=principal.role, needed=needed))
        if path == "/_dash-update-component":
            body = flask.request.get_json()  # werkzeug kept what _permission parsed
            problem = body_problem(body, self.app.callback_map[body["output"]])
            if problem:
                log.warning("refused a callback request for %.200s: %s", body["output"], problem)
                return _refuse(400, "bad_request", f"Refused: {problem}.")
        return None

    def _permission(self, path: str) -> Permission | None:
        if path == "/_dash-update-component":
            try:  # not silent=True: werkzeug caches the two kinds apart, and Dash would parse the body again
                body = flask.request.get_json()
            except (HTTPException, RecursionError):  # RecursionError: a body of 500,000 nested brackets
                return None
            output = body.get("output") if isinstance(body, Mapping) else None
            if not isinstance(output, str):
                return None
            if len(self._callbacks) != len(self.app.callback_map):  # Dash adds its router at the first request
                self._callbacks = callback_permissions(self.app)
            return self._callbacks.get(output)
        return next((p for prefix, p in ROUTE_PERMISSIONS if path.startswith(prefix)), Permission.WATCH_WALL)

    def _same_origin(self) -> bool:
        origin = flask.request.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc == flask.request.host

    @staticmethod
    def _is_page(path: str) -> bool:
        return flask.request.method == "GET" and not path.startswith(DISPLAY_PREFIXES) and "." not in path[1:]

    def _not_signed_in(self, refusal: Refusal) -> flask.Response:
        path = flask.request.path
        if self._is_page(path) and refusal is Refusal.SIGNED_OUT:
            wanted = flask.request.full_path if flask.request.query_string else path
            return flask.redirect(f"/login?next={quote(wanted, safe='/')}", 303)
        if self._is_page(path):
            return _page(401, REFUSALS[refusal])
        return _refuse(401, refusal.value, _(REFUSALS[refusal]))

    def _record_denial(self, principal: Principal, needed: Permission, path: str) -> None:
        try:
            with self.services.pool.connection() as conn:
                audit.record(conn, principal, "access", path[:100], "denied", {"needs": needed.value})
        except Exception:  # the refusal stands whether or not it could be recorded
            log.exception("could not record a refused request of %s", principal.name)

    # --- sign-in, sign-out, display tokens ---------------------------------------------------------------------------
    def login(self) -> flask.Response:
        request = flask.request
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            return _page(200, None, target=target)
        if not self._same_origin():
            return _page(403, N_("Refused: the sign-in form was sent from another site."), target=target)
        try:
            result = self.services.access.sign_in(
                request.form.get("username", "")[:200], request.form.get("password", "")[:1000], self.address()
            )
        except (psycopg.Error, redis.RedisError):
            log.exception("sign-in could not be checked")
            return _page(503, UNAVAILABLE, target=target)
        if result.token is None:
            response = _page(
                429 if result.rate_limited else 401,
                result.refusal,
                target=target,
                username=request.form.get("username", "")[:128],
            )
            if result.rate_limited:
                response.headers["Retry-After"] = str(self.services.access.limiter.retry_after_s())
            return response
        response = flask.redirect(target, 303)
        self._set_cookie(response, result.token, self.settings.session_hours * 3600)
        return response

    def logout(self) -> flask.Response:
        if not self._same_origin():
            return _refuse(403, "cross_origin", _("Refused: this request came from another site."))
        token = flask.request.cookies.get(SESSION_COOKIE)
        try:
            self.services.access.sign_out(token, self.services.access.check_session(token, self.address()).principal)
        except (psycopg.Error, redis.RedisError):  # the browser forgets the cookie; the session expires by itself
            log.exception("sign-out could not end the session on the server")
        response = flask.redirect("/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def exchange_display_token(self) -> flask.Response:
        try:
            result = self.services.access.exchange_display_token(flask.request.args.get("token"), self.address())
        except (psycopg.Error, redis.RedisError):
            log.exception("a display token could not be checked")
            return _page(503, UNAVAILABLE, display=True)
        if result.token is None:
            return _page(429 if result.rate_limited else 403, result.refusal, display=True)
        # The token leaves the address bar at once; the wall's own URL carries nothing secret.
        response = flask.redirect("/wall", 303)
        self._set_cookie(response, result.token, self.settings.display_session_days * 86400)
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _set_cookie(self, response: flask.Response, token: str, max_age_s: float) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(max_age_s),
            httponly=True,
            samesite="Lax",
            secure=self._secure(),
            path="/",
        )

    def _secure(self) -> bool:
        mode = self.settings.cookie_secure
        if mode != "auto":
            return mode == "always"
        request = flask.request
        forwarded = (
            request.headers.get("X-Forwarded-Proto", "") if is_trusted(request.remote_addr, self.proxies) else ""
        )
        return request.is_secure or forwarded.split(",")[0].strip().lower() == "https"


def _refuse(status: int, error: str, message: str) -> flask.Response:
    response = flask.jsonify({"error": error, "message": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(status: int, message: str | None, **context: object) -> flask.Response:
    html = _templates.get_template("login.html").render(
        message=_(message) if message else None, _=_, lang=language(), languages=LANGUAGES, **context
    )
    response = flask.make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    return response


def install(app: Dash, services, api=None, public_prefixes: tuple[str, ...] = ()) -> Gate:
    """Put the gate in front of every request of ``app`` and add the sign-in routes; ``api`` checks /api/
    itself. Paths under ``public_prefixes`` pass without a session: their routes answer for themselves
    (open311/routes.py)."""
    gate = Gate(app, services, api, public_prefixes)
    server = app.server
    server.before_request(gate.check)
    server.add_url_rule("/login", "ioc_login", gate.login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "ioc_logout", gate.logout, methods=["POST"])
    return gate
