"""How each process shows its Prometheus metrics (docs/OPERATIONS.md).

* ``ioc ingest`` and ``ioc alerts run``: prometheus-client's own HTTP server on IOC_INGEST_METRICS_PORT (worker N
  of ``--workers`` on that port + N) or IOC_ALERTS_METRICS_PORT, listening on IOC_METRICS_ADDR. It has no sign-in:
  keep it on loopback or a private network (in docker-compose, the compose network only).
* the dashboard: ``/metrics`` beside the pages. Its gunicorn workers are separate processes, so their metrics go
  through prometheus-client's multiprocess mode (a directory of memory-mapped files, set up in gunicorn.conf.py)
  and one scrape sums every worker. It is open to a bearer token (IOC_METRICS_TOKEN) or to listed addresses
  (IOC_METRICS_ALLOWED_NETWORKS), to nobody by default: a city's Prometheus has no browser session.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Sequence

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from auth.addresses import Network, is_trusted

log = logging.getLogger(__name__)
# prometheus-client's own switch for multiprocess mode, read by the library when it is first imported; the
# dashboard's gunicorn.conf.py sets it before any worker is forked.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def serve_metrics(port: int, addr: str) -> None:
    """Start this process's metrics server (a daemon thread) unless ``port`` is 0."""
    if port:
        start_http_server(port, addr=addr)
        log.info("metrics on http://%s:%d/metrics", addr, port)


def metrics_allowed(remote_addr: str | None, authorization: str | None, token: str,
                    networks: Sequence[Network], proxies: Sequence[Network]) -> bool:  # fmt: skip
    """Whether a request may read the dashboard's ``/metrics`` (pure).

    The right bearer token opens it from anywhere. Without it, the connecting address must be in ``networks``; a
    trusted reverse proxy's address never counts, since it relays every outside visitor.
    """
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    # is_trusted: whether the connection's own address is in the networks given
    return is_trusted(remote_addr, networks) and not is_trusted(remote_addr, proxies)


def dashboard_exposition(multiproc_dir: str | None, extra: Iterable[Collector] = ()) -> bytes:
    """The dashboard's metrics text: every gunicorn worker's (multiprocess mode), or this process's registry when
    the app runs in one process (``ioc serve --debug``, tests), then the ``extra`` collectors read at scrape."""
    if multiproc_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    at_scrape = CollectorRegistry(auto_describe=False)
    for collector in extra:
        at_scrape.register(collector)
    return text + generate_latest(at_scrape)


class SnapshotAge(Collector):
    """``ioc_snapshot_age_seconds``, read from Redis at scrape: one number, the same in every worker, so it is not
    kept in the multiprocess files (where gauges from several workers need a rule to combine them)."""

    def __init__(self, built_ms: Callable[[], int | None], now_ms: Callable[[], int]) -> None:
        self._built_ms, self._now_ms = built_ms, now_ms

    def collect(self):
        family = GaugeMetricFamily("ioc_snapshot_age_seconds", "Seconds since the live snapshot was last built "
                                   "(absent before the first build or while Redis does not answer).")  # fmt: skip
        try:
            built = self._built_ms()
        except Exception as exc:  # a scrape must answer even with Redis down: the age is then left out
            log.warning("snapshot age not read for /metrics: %s", exc)
            built = None
        if built is not None:
            family.add_metric([], max(0.0, (self._now_ms() - built) / 1000))
        yield family

    def describe(self):
        return []
