"""/api/v1 on the dashboard's Flask server: the key check the gate hands API requests to, and thin views.

``auth.web``'s gate sends every request under /api/ here (``Api.check``) instead of looking for a session: an API
request is let in by its key alone, and a key opens nothing but these endpoints (the gate never reads it for a
page or a Dash callback). A path under /api/ that is not an endpoint is a JSON 404 here, never Dash's page.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

import flask
import orjson
import psycopg
import redis
from dash import Dash

import bootstrap
from api.access import ApiAccess, Refusal
from api.endpoints import PREFIX, Endpoint, endpoints
from api.openapi import DOCS_PATH, OPENAPI_PATH, document
from api.paging import etag, not_modified
from api.params import BadParameter, parse_query
from api.reference import reference_html
from api.resources import Context, Unavailable

log = logging.getLogger(__name__)
UNAVAILABLE = Refusal(503, "unavailable", "The IOC's data stores do not answer right now; retry in a minute.", 30)
NOT_BUILT = Refusal(503, "unavailable", "The live data is being prepared (a fresh start); retry in a few seconds.", 5)


def owns(path: str) -> bool:
    """Whether ``path`` is the API's to answer (the gate asks)."""
    return path == "/api" or path.startswith("/api/")


class Api:
    """The API's routes and key check over the dashboard's services."""

    def __init__(self, services) -> None:
        self.services, self.settings = services, services.settings
        self.table: dict[str, Endpoint] = {PREFIX + e.path: e for e in endpoints(self.settings.api_page_max)}
        self.document = document(self.settings.api_page_max, self.settings.api_requests_per_minute)
        self._access: ApiAccess | None = None
        self._context: Context | None = None
        self._reference: bytes | None = None

    @property
    def access(self) -> ApiAccess:
        if self._access is None:  # on first use: after gunicorn forked
            self._access = ApiAccess(
                self.services.pool.connection,
                self.services.redis,
                f"{self.settings.consumer_group}:api",
                self.settings.api_requests_per_minute,
            )
        return self._access

    @property
    def context(self) -> Context:
        if self._context is None:
            settings = self.settings
            self._context = Context(self.services, self.services.read_pool.connection,
                                    lambda: bootstrap.districts_geojson(settings), settings.api_position_decimals,
                                    settings.api_max_range_days)  # fmt: skip
        return self._context

    def check(self, address: str) -> flask.Response | None:
        """Let an API request through to its view (None) or answer it here: 401, 403, 404, 405, 429, 503."""
        request = flask.request
        if request.method not in ("GET", "HEAD"):
            response = error(Refusal(405, "method_not_allowed", "This API is read-only: GET only."))
            response.headers["Allow"] = "GET, HEAD"
            return response
        if request.path in (OPENAPI_PATH, DOCS_PATH):
            return None  # the reference is public: a developer reads it before having a key
        endpoint = self.table.get(request.path)
        if endpoint is None:
            return error(Refusal(404, "not_found", f"No such endpoint; the list is at {DOCS_PATH}."))
        try:
            verdict = self.access.check(request.headers, endpoint.scope, request.path, address)
        except (psycopg.Error, redis.RedisError):
            log.exception("could not check an API key")
            return error(UNAVAILABLE)
        if isinstance(verdict, Refusal):
            return error(verdict)
        flask.g.api_caller = verdict
        return None

    def view(self, endpoint: Endpoint):
        def serve() -> flask.Response:
            if flask.g.get("api_caller") is None:  # only ``check`` lets a request get here; never unchecked
                return error(Refusal(401, "unauthorized", "An API key is needed."))
            try:
                query = parse_query(flask.request.args.to_dict(flat=False), endpoint.params)
                answer = endpoint.work(self.context, query)
            except BadParameter as bad:
                code = "bad_request" if bad.status == 400 else "unprocessable"
                return error(Refusal(bad.status, code, str(bad)), parameter=bad.parameter)
            except Unavailable:
                return error(NOT_BUILT)
            except (psycopg.Error, redis.RedisError):
                log.exception("an API read failed: %s", flask.request.path)
                return error(UNAVAILABLE)
            cursor = answer.doc.get("next_cursor")
            link = next_link(flask.request.path, query, cursor) if cursor else None
            if query.get("format") == "csv":
                body, kind = csv_body(answer.csv_columns, answer.csv_rows), "text/csv; charset=utf-8"
            else:
                body, kind = orjson.dumps(answer.doc | {"next": link}), "application/json"
            return cached(body, kind, link)

        serve.__name__ = f"api_{endpoint.name}"
        return serve

    def openapi(self) -> flask.Response:
        return cached(orjson.dumps(self.document), "application/json", None)

    def reference(self) -> flask.Response:
        if self._reference is None:  # the document is fixed for the process: render its page once
            self._reference = reference_html(self.document, self.settings.dashboard_url).encode()
        return cached(self._reference, "text/html; charset=utf-8", None)


def cached(body: bytes, kind: str, link: str | None) -> flask.Response:
    """``body`` with its ETag, or 304 when the client already holds it."""
    tag = etag(body)
    if not_modified(flask.request.headers.get("If-None-Match"), tag):
        response = flask.Response(status=304)
    else:
        response = flask.Response(body, 200, content_type=kind)
        if link:
            response.headers["Link"] = f'<{link}>; rel="next"'
    response.headers["ETag"] = tag
    # Answers differ per key (scopes): shared caches must not mix them; clients revalidate with the ETag.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Authorization, X-API-Key"
    return response


def error(refusal: Refusal, parameter: str | None = None) -> flask.Response:
    """A JSON error: ``{"error", "message"[, "parameter"]}``, and Retry-After when there is a wait."""
    doc = {"error": refusal.error, "message": refusal.message} | ({"parameter": parameter} if parameter else {})
    response = flask.Response(orjson.dumps(doc), refusal.status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    if refusal.retry_after_s is not None:
        response.headers["Retry-After"] = str(refusal.retry_after_s)
    return response


def next_link(path: str, query: Mapping[str, object], cursor: str) -> str:
    """The relative URL of the next page: the same parameters, the next cursor (never the client's Host)."""
    args = {k: _arg(v) for k, v in query.items() if v is not None and k != "cursor"}
    return f"{path}?{urlencode(args | {'cursor': cursor})}"


def _arg(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def csv_body(columns: Sequence[str], rows: Sequence[Mapping]) -> bytes:
    """Rows as CSV; a text cell that a spreadsheet would run as a formula is quoted with a leading '."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := row.get(c)) is None else _safe(v) for c in columns])
    return out.getvalue().encode()


def _safe(value: object) -> object:
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def install(app: Dash, services) -> Api:
    """Add /api/v1's routes to ``app``'s server; the gate calls the returned ``Api.check`` for /api/ paths."""
    api = Api(services)
    server = app.server
    for path, endpoint in api.table.items():
        server.add_url_rule(path, f"api_{endpoint.name}", api.view(endpoint), methods=["GET"])
    server.add_url_rule(OPENAPI_PATH, "api_openapi", api.openapi, methods=["GET"])
    server.add_url_rule(DOCS_PATH, "api_reference", api.reference, methods=["GET"])
    return api
