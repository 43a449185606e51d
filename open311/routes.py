"""``/open311/…`` on the dashboard's server: GeoReport v2 reads for anyone, bounded and rate-limited.

The sign-in gate lets these paths through when IOC_OPEN311_ENABLED (``public_prefixes``); every request then
counts against its client address (``auth.ratelimit``, shared by all workers in Redis) before anything is read.
Each answer is the spec's document or the spec's error document, in the format the path names (XML when it
names none), with the spec's HTTP codes: 400 for bad arguments, 404 for what does not exist, and beyond the
spec 405 for a write (this server takes no requests), 429 past the rate limit and 503 when a store is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import flask
import psycopg
import redis
from dash import Dash

import bootstrap
from auth.addresses import client_address, parse_networks
from auth.ratelimit import AttemptLimiter
from live.sla import sla_hours
from open311 import catalogue, mapping, render
from open311.paths import Open311Error, Resource, Route, format_of, route
from open311.query import Limits, parse_requests_query, possible_id
from open311.store import Open311Store
from settings import Settings

log = logging.getLogger(__name__)
PREFIX = "/open311/"
READ_ONLY = (
    "This Open311 server only reads: requests are filed through the city's own channels (hotline, app, "
    "WeChat, web), and appear here once filed."
)
UNAVAILABLE = "The city's service requests cannot be read right now. Try again in a minute."
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
MAX_AGE_S = 60  # answers may be cached this long: data a minute old is what a 311 app expects


def public_prefixes(settings: Settings) -> tuple[str, ...]:
    """The paths the sign-in gate lets through without a session: ours, when enabled."""
    return (PREFIX,) if settings.open311_enabled else ()


class Open311Api:
    """The resources, over the dashboard's services (read pool, Redis), built on first use."""

    def __init__(self, services, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.services, self.settings, self.now = services, services.settings, now
        s = self.settings
        self.limits = Limits(s.open311_max_requests, s.open311_max_days, s.open311_max_ids)
        self.zone = ZoneInfo(s.city_timezone)
        self.proxies = parse_networks(s.trusted_proxies)
        self._store: Open311Store | None = None
        self._limiter: AttemptLimiter | None = None
        self._publication: mapping.Publication | None = None

    @property
    def store(self) -> Open311Store:
        if self._store is None:
            self._store = Open311Store(self.services.read_pool.connection)
        return self._store

    @property
    def publication(self) -> mapping.Publication:
        if self._publication is None:
            names = {d.id: d.name_en for d in bootstrap.city_map(self.settings).districts}
            s = self.settings
            self._publication = mapping.Publication(
                self.zone, s.open311_position_decimals, s.open311_agency_responsible, names,
                lambda category: sla_hours(category, s.city_pack.file.kpi),  # the city pack's SLA per category
            )
        return self._publication

    def answer(self, resource: str) -> flask.Response:
        """One request under ``/open311/``: the document, or the spec's error document."""
        fmt = format_of(resource)
        try:
            self.admit()
            if flask.request.method not in ("GET", "HEAD"):
                raise Open311Error(405, READ_ONLY, {"Allow": "GET, HEAD"})
            target = route(resource)
            fmt = target.fmt
            root, value = self.read(target)
        except Open311Error as error:
            return respond(fmt, *render.errors(error.status, error.description), error.status, error.headers)
        except (psycopg.Error, redis.RedisError):
            log.exception("Open311 could not read %.200s", resource)
            return respond(fmt, *render.errors(503, UNAVAILABLE), 503, {"Retry-After": "60"})
        return respond(fmt, root, value, 200, {"Cache-Control": f"public, max-age={MAX_AGE_S}"})

    def admit(self) -> None:
        """Count this request against its address; ``Open311Error(429)`` with Retry-After past the limit."""
        if self._limiter is None:
            self._limiter = AttemptLimiter(
                self.services.redis,
                f"{self.settings.consumer_group}:open311-reads",
                self.settings.open311_requests_per_minute,
            )
        request = flask.request
        address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), self.proxies)
        if not self._limiter.allow(address):
            limit = self.settings.open311_requests_per_minute
            raise Open311Error(
                429,
                f"Too many requests: at most {limit} a minute from one address.",
                {"Retry-After": str(self._limiter.retry_after_s())},
            )

    def read(self, target: Route) -> tuple[str, dict | list]:
        """The document ``target`` names: its root element's name and its value."""
        if target.resource is Resource.DISCOVERY:
            contact = self.settings.open311_contact or self.settings.dashboard_url
            return "discovery", mapping.discovery(self.settings.dashboard_url.rstrip("/") + PREFIX + "v2", contact)
        if target.resource is Resource.SERVICES:
            return "services", [mapping.service_entry(s) for s in self.services_listed()]
        if target.resource is Resource.DEFINITION:
            if target.ident not in {s.code for s in self.services_listed()}:
                raise Open311Error(404, f"No service {target.ident[:64]!r}: services.xml or services.json lists them.")
            return "service_definition", mapping.service_definition(target.ident)
        if target.resource is Resource.REQUESTS:
            return "service_requests", self.requests()
        return "service_requests", [self.one_request(target.ident or "")]

    def services_listed(self) -> list[catalogue.Service]:
        since = self.now() - timedelta(days=self.settings.open311_max_days)
        return catalogue.services(self.store.categories(since))

    def requests(self) -> list[dict]:
        known = {s.code for s in self.services_listed()}
        args = flask.request.args.to_dict(flat=False)
        query = parse_requests_query(args, self.now(), self.zone, self.limits, known)
        return [mapping.service_request(row, self.publication) for row in self.store.requests(query)]

    def one_request(self, request_id: str) -> dict:
        row = self.store.request(request_id) if possible_id(request_id) else None
        if row is None:
            raise Open311Error(404, f"No service request {request_id[:64]!r}.")
        return mapping.service_request(row, self.publication)


def respond(fmt: str, root: str, value: dict | list, status: int, headers: dict[str, str]) -> flask.Response:
    """The document as an HTTP answer; any origin may read it (public data, no cookies involved)."""
    response = flask.Response(render.document(fmt, root, value), status, content_type=render.CONTENT_TYPES[fmt])
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response


def install(app: Dash, services) -> Open311Api | None:
    """Serve ``/open311/…`` on ``app``'s server when IOC_OPEN311_ENABLED."""
    if not services.settings.open311_enabled:
        return None
    api = Open311Api(services)
    app.server.add_url_rule(PREFIX + "<path:resource>", "open311", api.answer, methods=METHODS)
    app.server.add_url_rule(PREFIX, "open311_root", lambda: api.answer(""), methods=METHODS)
    return api
