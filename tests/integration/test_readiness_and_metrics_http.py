"""`/readyz` and `/metrics` of the dashboard under gunicorn (two workers, real Redis and TimescaleDB).

Readiness is driven by facts the test sets, never by waiting on a clock: the snapshot's build time is written
back in time, and entries are added that no ingest worker reads. `/metrics` sums both workers (prometheus-client's
multiprocess mode) and is closed to anyone without the bearer token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
import requests

import bootstrap
from layouts import ids
from live.store import LiveKeys
from settings import Settings
from tests.integration.conftest import wait_until
from tests.integration.dash_http import DashCallbacks
from tests.integration.events import fill, reading
from tests.integration.scrape import parse, promtool_check, scrape, value
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port

pytestmark = pytest.mark.integration
TOKEN = "a-scrape-token-for-the-tests"
MAX_LAG = 5


class Dashboard:
    def __init__(self, settings: Settings, served: Served) -> None:
        self.settings, self.url = settings, served.url
        self.redis: redis.Redis = bootstrap.redis_client(settings)
        self.snapshot_key = LiveKeys(settings.consumer_group).snapshot

    def ready(self) -> requests.Response:
        return requests.get(self.url + "/readyz", timeout=20)

    def metrics(self) -> str:
        return scrape(self.url + "/metrics", TOKEN)

    def signed_in(self, role: str) -> requests.Session:
        session, account = requests.Session(), ACCOUNTS[role]
        reply = session.post(self.url + "/login", data={"username": account.username, "password": account.password},
                             allow_redirects=False, timeout=20)  # fmt: skip
        assert reply.status_code == 303, reply.text
        return session


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory) -> Iterator[Dashboard]:
    # The snapshot is rebuilt only when ingest commits or an hour passes: the tests move its build time themselves.
    with isolated(Settings(), http_port=free_port(), ready_max_lag=MAX_LAG, ready_max_snapshot_age_s=60.0,
                  live_rebuild_max_s=3600.0, signin_attempts_per_minute=10_000) as settings:  # fmt: skip
        add_accounts(settings)
        served = Served(settings, tmp_path_factory.mktemp("ops") / "gunicorn.log", workers=2,
                        env={"IOC_METRICS_TOKEN": TOKEN})  # fmt: skip
        served.start()
        try:
            site = Dashboard(settings, served)
            # The first /readyz of a worker starts its snapshot builder; ready once a snapshot is built.
            wait_until(lambda: site.ready().status_code == 200, timeout=60, what="the dashboard ready")
            yield site
        finally:
            served.stop()


def test_ready_when_services_answer_ingest_keeps_up_and_the_snapshot_is_fresh(dashboard):
    reply = dashboard.ready()
    body = reply.json()
    assert reply.status_code == 200 and body["ready"] and body["failed"] == []
    assert set(body["checks"]) == {"redis", "database", "ingest_lag", "snapshot"}
    assert body["checks"]["ingest_lag"]["lag"] == {s: 0 for s in dashboard.settings.streams.values()}
    assert body["checks"]["snapshot"]["age_s"] <= 60
    assert reply.headers["Cache-Control"] == "no-store"
    assert requests.get(dashboard.url + "/healthz", timeout=10).status_code == 200


def test_a_stale_snapshot_makes_it_not_ready_and_says_how_old(dashboard):
    built = int(dashboard.redis.hget(dashboard.snapshot_key, "built_ms"))
    dashboard.redis.hset(dashboard.snapshot_key, "built_ms", int(time.time() * 1000) - 120_000)
    try:
        reply = dashboard.ready()
        body = reply.json()
        assert reply.status_code == 503 and body["failed"] == ["snapshot"]
        assert body["checks"]["snapshot"]["age_s"] >= 120 and body["checks"]["snapshot"]["max_age_s"] == 60
        assert "snapshot" in body["checks"]["snapshot"]["error"]
    finally:
        dashboard.redis.hset(dashboard.snapshot_key, "built_ms", built)
    assert dashboard.ready().status_code == 200


def test_entries_waiting_for_ingest_past_the_threshold_make_it_not_ready(dashboard):
    stream = dashboard.settings.stream_iot
    fill(dashboard.redis, stream, [reading(f"aq-{i}") for i in range(MAX_LAG + 3)])  # no ingest worker runs
    try:
        reply = dashboard.ready()
        body = reply.json()
        assert reply.status_code == 503 and body["failed"] == ["ingest_lag"]
        assert body["checks"]["ingest_lag"]["lag"][stream] == MAX_LAG + 3
        assert body["checks"]["ingest_lag"]["max"] == MAX_LAG and stream in body["checks"]["ingest_lag"]["error"]
    finally:
        dashboard.redis.delete(stream)
    assert dashboard.ready().status_code == 200


def test_metrics_are_closed_without_the_token(dashboard):
    anonymous = requests.get(dashboard.url + "/metrics", timeout=10)
    assert anonymous.status_code == 401 and "IOC_METRICS_TOKEN" in anonymous.json()["message"]
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = requests.get(dashboard.url + "/metrics", headers={"Authorization": "Bearer not-the-token"}, timeout=10)
    assert wrong.status_code == 401 and "ioc_http_requests_total" not in wrong.text
    # A signed-in person is not a scraper either: the token or the address list, nothing else.
    assert dashboard.signed_in("admin").get(dashboard.url + "/metrics", timeout=10).status_code == 401


def test_metrics_sum_every_worker_and_pass_promtool(dashboard):
    before = parse(dashboard.metrics())[1]
    refused = 7
    for _ in range(refused):  # each lands on either worker
        assert requests.get(dashboard.url + "/_dash-layout", timeout=10).status_code == 401
    viewer = dashboard.signed_in("viewer")
    tick = f"{ids.PIPELINE_TICK}.n_intervals"
    body = DashCallbacks(viewer, dashboard.url).body(f"{ids.PIPELINE_TABLE}.children", {tick: 1}, tick)
    assert viewer.post(dashboard.url + "/_dash-update-component", json=body, timeout=20).status_code == 200
    text = dashboard.metrics()
    names, after = parse(text)
    assert (value(after, "ioc_http_requests_total", {"status": "401"})
            - value(before, "ioc_http_requests_total", {"status": "401"})) == refused  # fmt: skip
    assert value(after, "ioc_dash_callback_duration_seconds_count", {"callback": body["output"]}) == 1
    assert value(after, "ioc_snapshot_build_duration_seconds_count") >= 1
    assert 0 <= value(after, "ioc_snapshot_age_seconds", default=None) < 3600
    assert {"ioc_http_requests", "ioc_dash_callback_duration_seconds", "ioc_snapshot_build_duration_seconds",
            "ioc_snapshot_age_seconds"} <= names  # fmt: skip
    promtool_check(text)


def test_metrics_open_to_listed_addresses_never_through_a_trusted_proxy(test_settings):
    from app import create_app

    listed = test_settings.model_copy(update={"metrics_allowed_networks": ("10.9.0.0/16",)})
    client = create_app(listed).server.test_client()
    allowed = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert allowed.status_code == 200 and "ioc_http_requests_total" in allowed.text
    promtool_check(allowed.text)  # one process's registry (no gunicorn): the same names, clean too
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.10.8.7"}).status_code == 401
    # X-Forwarded-For is never believed here, trusted proxy or not.
    spoofed = client.get(
        "/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"}, headers={"X-Forwarded-For": "10.9.8.7"}
    )
    assert spoofed.status_code == 401
    behind_proxy = test_settings.model_copy(update={"metrics_allowed_networks": ("10.9.0.0/16",),
                                                    "trusted_proxies": ("10.9.0.1",)})  # fmt: skip
    proxied = create_app(behind_proxy).server.test_client()
    assert proxied.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.0.1"}).status_code == 401


def test_the_database_refusing_connections_makes_it_not_ready(own_database, tmp_path):
    from tests.integration.conftest import refuse_connections

    settings, admin_conn, name = own_database
    served = Served(settings.model_copy(update={"http_port": free_port()}), tmp_path / "gunicorn.log", workers=1)
    served.start()
    try:
        refuse_connections(admin_conn, name)
        reply = requests.get(served.url + "/readyz", timeout=30)
    finally:
        served.stop()
    body = reply.json()
    assert reply.status_code == 503 and "database" in body["failed"]
    assert body["checks"]["database"]["error"].startswith("the database: OperationalError")
    assert body["checks"]["redis"] == {"ok": True}


def test_a_database_that_accepts_and_never_answers_is_reported_at_the_deadline(test_settings, rds):
    import psycopg

    from ops.probes import Probes
    from tests.integration.alerting import Stalling

    silent = Stalling().start()  # takes the connection, never says a word
    probes = Probes(rds, lambda: psycopg.connect(host="127.0.0.1", port=silent.port, connect_timeout=30),
                    test_settings.shards.names, test_settings.consumer_group, "unused:live", timeout_s=0.5)  # fmt: skip
    try:
        seen = probes.observe()
    finally:
        probes.close()
        silent.stop()  # the stuck probe's connection is cut, and its thread ends
    assert seen.database == "the database did not answer within 0.5 s"
    assert seen.redis is None and seen.snapshot_built_ms is None
