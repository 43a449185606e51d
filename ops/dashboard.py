"""The dashboard's operations routes and metrics: ``/readyz``, ``/metrics``, requests by status, callback latency.

Both routes pass the sign-in gate (``auth.web.OPEN_PATHS``): a load balancer and a city's Prometheus have no
browser session. ``/readyz`` says only which check failed and its figure; ``/metrics`` checks its own bearer token
or address allow-list (``ops.exposition.metrics_allowed``) and refuses everyone when neither is configured.
"""

from __future__ import annotations

import math
import os
import time
from functools import cache

import flask
import psycopg
from dash import Dash
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram

from auth.addresses import parse_networks
from live.store import LiveKeys
from ops.exposition import MULTIPROC_ENV, SnapshotAge, dashboard_exposition, metrics_allowed
from ops.probes import Probes
from ops.readiness import ReadinessLimits, judge
from settings import Settings
from streams.group_read import redis_at

DASH_CALLBACK_PATH = "/_dash-update-component"
CALLBACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
REFUSED = {
    "error": "unauthorized",
    "message": "Metrics need the bearer token (IOC_METRICS_TOKEN) or an address in IOC_METRICS_ALLOWED_NETWORKS.",
}


class DashboardMetrics:
    """The dashboard's own counters (one set per process; gunicorn workers add up through multiprocess mode)."""

    def __init__(self) -> None:
        self.requests = Counter("ioc_http_requests_total", "HTTP requests answered by the dashboard, by status code.",
                                ["status"])  # fmt: skip
        self.callbacks = Histogram(
            "ioc_dash_callback_duration_seconds",
            "Time to answer one Dash callback request (the sign-in gate included), by the callback's output key.",
            ["callback"], buckets=CALLBACK_BUCKETS,
        )  # fmt: skip


@cache
def dashboard_metrics() -> DashboardMetrics:
    """This process's dashboard metrics, made on first use (after gunicorn forked the worker)."""
    return DashboardMetrics()


def readiness_probes(settings: Settings) -> Probes:
    """The probes as the dashboard's accounts, each connection bounded by IOC_READY_PROBE_TIMEOUT_S."""
    timeout_s = settings.ready_probe_timeout_s
    client = redis_at(settings.redis_url_for("dashboard"), settings.redis_cluster, socket_connect_timeout=timeout_s,
                      socket_timeout=timeout_s)  # fmt: skip

    def connect_db() -> psycopg.Connection:
        return psycopg.connect(settings.database_url_for("dashboard"), connect_timeout=max(1, math.ceil(timeout_s)),
                               options=f"-c statement_timeout={int(timeout_s * 1000)}")  # fmt: skip

    return Probes(client, connect_db, settings.shards.names, settings.consumer_group,
                  LiveKeys(settings.consumer_group).snapshot, timeout_s)  # fmt: skip


def install(app: Dash, services) -> None:
    """Add ``/readyz`` and ``/metrics`` and count every request of ``app``."""
    settings = services.settings
    server = app.server
    metrics = dashboard_metrics()
    probes = readiness_probes(settings)
    limits = ReadinessLimits(settings.ready_max_lag, settings.ready_max_snapshot_age_s)
    token = settings.metrics_token.get_secret_value()
    allowed = parse_networks(settings.metrics_allowed_networks)
    proxies = parse_networks(settings.trusted_proxies)
    snapshot_age = SnapshotAge(probes.snapshot_built_ms, lambda: int(time.time() * 1000))

    @server.get("/readyz")
    def readyz():
        services.snapshot()  # this process's snapshot builder runs from the first call on (none is elected before)
        verdict = judge(probes.observe(), limits)
        response = flask.jsonify(verdict.body())
        response.status_code = 200 if verdict.ready else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    @server.get("/metrics")
    def metrics_text():
        request = flask.request
        if not metrics_allowed(request.remote_addr, request.headers.get("Authorization"), token, allowed, proxies):
            response = flask.jsonify(REFUSED)
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="ioc-metrics"'
            return response
        # prometheus-client's own variable: set by gunicorn.conf.py in the master before the workers fork.
        text = dashboard_exposition(os.environ.get(MULTIPROC_ENV), [snapshot_age])
        return flask.Response(text, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})

    def started() -> None:
        flask.g.ioc_started = time.perf_counter()

    def counted(response: flask.Response) -> flask.Response:
        metrics.requests.labels(str(response.status_code)).inc()
        started_at = flask.g.get("ioc_started")
        if started_at is not None and flask.request.path == DASH_CALLBACK_PATH:
            callback = _callback_key(app)
            if callback is not None:
                metrics.callbacks.labels(callback).observe(time.perf_counter() - started_at)
        return response

    # First of all, so the gate's own checks count in a callback's time.
    server.before_request_funcs.setdefault(None, []).insert(0, started)
    server.after_request(counted)


def _callback_key(app: Dash) -> str | None:
    """The output key of this Dash callback request, if it names a callback of the app (labels stay bounded)."""
    try:
        body = flask.request.get_json()  # parsed once already by the gate: werkzeug keeps it
    except Exception:
        return None
    output = body.get("output") if isinstance(body, dict) else None
    return output if isinstance(output, str) and output in app.callback_map else None
