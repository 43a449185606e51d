"""Open311 GeoReport v2 served for real: an Open311 client nobody on the team wrote reads the city's requests.

The dashboard runs under gunicorn against real Redis and TimescaleDB; complaint events go through the stream and
ingest, as the city's would. The client is PyPI's ``georeport``; what it lists is compared with the database.
Refusals are made by hand with ``requests``, each from an address of its own (X-Forwarded-For from a trusted
proxy), so the per-address limit of one test never touches another.
"""

from __future__ import annotations

import json
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import requests
from georeport import GeoReport

import bootstrap
from app import create_app
from auth.web import Gate
from cities import load_city
from cities.schema import Category
from settings import Settings
from simulator.clock import iso_local
from simulator.complaints import life_cycle
from tests.integration import events
from tests.integration.test_accounts import accounts, as_account  # noqa: F401 - a fixture, used below
from tests.isolation import isolated
from tests.served import Served, free_port

pytestmark = pytest.mark.integration
CATEGORIES = tuple(load_city("shenzhen").file.simulator.complaints)  # the default city's catalogue
PER_MINUTE = 40
MAX_REQUESTS = 250
PRIVATE = "市民张三 手机 13800138000"
DAY_MS = 86_400_000


class Site:
    def __init__(self, settings: Settings, url: str) -> None:
        self.settings, self.url, self.base = settings, url, url + "/open311/v2"

    def db(self) -> psycopg.Connection:
        conn = bootstrap.db_connection(self.settings)
        conn.autocommit = True
        return conn

    def get(self, path: str, address: str, **params: str) -> requests.Response:
        return requests.get(self.url + path, params=params, headers={"X-Forwarded-For": address}, timeout=30)


def city_events(settings: Settings, now_ms: int) -> list[dict[str, str]]:
    """Requests over the last 25 days and a few from 100-120 days ago, through each one's life so far."""
    rng, city = random.Random(1311), bootstrap.city_map(settings)
    districts = [d.id for d in city.districts]
    opened = [now_ms - rng.randrange(DAY_MS // 2, 25 * DAY_MS) for _ in range(300)]
    opened += [now_ms - rng.randrange(100 * DAY_MS, 120 * DAY_MS) for _ in range(12)]
    fields: list[dict[str, str]] = []
    for n, opened_ms in enumerate(opened):
        category = rng.choices(CATEGORIES, [c.weight for c in CATEGORIES])[0]
        if n % 50 == 0:
            # not in the city's catalogue
            category = Category(name="drone_noise", weight=1.0, median_hours=3.0, descriptions=["无人机夜间扰民"])
        district = rng.choice(districts)
        lon, lat = city.random_point_in(district, rng)
        place = {"district": district, "lat": f"{lat:.6f}", "lon": f"{lon:.6f}", "channel": "app"}
        life = life_cycle(f"SZ{opened_ms}{n:03d}", opened_ms, category, place, rng)
        fields += [f for ts_ms, f in life if ts_ms < now_ms - 60_000]  # what has happened by now
    private = {"request_id": "SZ-PRIVATE", "category": "noise", "district": "futian", "lat": events.FUTIAN[0],
               "lon": events.FUTIAN[1], "channel": "hotline"}  # fmt: skip
    fields.append({**private, "status": "open", "description": PRIVATE, "ts": iso_local(now_ms - DAY_MS)})
    fields.append({**private, "status": "in_progress", "ts": iso_local(now_ms - DAY_MS // 2)})
    return fields


@pytest.fixture(scope="module")
def site(base_settings: Settings, tmp_path_factory) -> Iterator[Site]:
    with isolated(base_settings, http_port=free_port(), trusted_proxies=("127.0.0.1",),
                  open311_requests_per_minute=PER_MINUTE, open311_max_requests=MAX_REQUESTS,
                  open311_agency_responsible="Shenzhen 12345 hotline") as settings:  # fmt: skip
        events.fill(bootstrap.redis_client(settings), settings.stream_complaints,
                    city_events(settings, int(time.time() * 1000)))  # fmt: skip
        worker = bootstrap.ingest_worker(settings, "open311-seed")
        worker.ensure_groups()
        while worker.step():
            pass
        worker.close()
        server = Served(settings, tmp_path_factory.mktemp("open311") / "gunicorn.log", workers=1)
        server.start()
        try:
            yield Site(settings, server.url)
        finally:
            server.stop()


def w3(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ids_in(site: Site, query: str, *params: object) -> set[str]:
    with site.db() as conn:
        return {row[0] for row in conn.execute(query, params)}


def test_an_open311_client_reads_services_and_requests_and_the_counts_match_the_database(site):
    client, as_xml = GeoReport(site.base), GeoReport(site.base, output_format="xml")
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert codes == [s["service_code"] for s in as_xml.get_service_list()]
    assert ids_in(site, "SELECT DISTINCT category FROM complaints") <= set(codes)
    assert {"service_code": "drone_noise", "service_name": "Drone noise", "metadata": False,
            "type": "realtime"} in services  # fmt: skip
    assert client.get_service_definition("noise") == {"service_code": "noise", "attributes": []}

    start, end = datetime.now(UTC) - timedelta(days=20), datetime.now(UTC) - timedelta(days=1)
    listed = client.get_service_requests(start_date=w3(start), end_date=w3(end))
    in_state = ids_in(site, "SELECT request_id FROM complaints WHERE opened_at BETWEEN %s AND %s", start, end)
    from_events = ids_in(site, "SELECT request_id FROM complaint_events GROUP BY 1 HAVING min(ts) BETWEEN %s AND %s",
                         start, end)  # fmt: skip
    assert len(listed) == len(in_state) == len(from_events) > 100
    assert {r["service_request_id"] for r in listed} == in_state == from_events
    requested = [r["requested_datetime"] for r in listed]
    assert requested == sorted(requested, key=datetime.fromisoformat, reverse=True)
    in_xml = as_xml.get_service_requests(start_date=w3(start), end_date=w3(end))
    assert [r["service_request_id"] for r in in_xml] == [r["service_request_id"] for r in listed]

    window = {"start_date": w3(start), "end_date": w3(end)}
    closed = client.get_service_requests(status="closed", **window)
    still_open = client.get_service_requests(status="open", **window)
    noise = client.get_service_requests(service_code="noise,drone_noise", **window)
    range_sql = "SELECT request_id FROM complaints WHERE opened_at BETWEEN %s AND %s AND "
    assert {r["service_request_id"] for r in closed} == ids_in(site, range_sql + "status = 'closed'", start, end)
    assert {r["service_request_id"] for r in still_open} == ids_in(site, range_sql + "status <> 'closed'", start, end)
    assert {r["service_request_id"] for r in noise} == ids_in(
        site, range_sql + "category IN ('noise', 'drone_noise')", start, end)  # fmt: skip
    assert closed and still_open and {r["status"] for r in closed + still_open} == {"closed", "open"}


def test_without_dates_the_newest_requests_of_90_days_up_to_the_bound(site):
    listed = GeoReport(site.base).get_service_requests()
    with site.db() as conn:
        newest = [r[0] for r in conn.execute(
            "SELECT request_id FROM complaints WHERE opened_at >= now() - interval '90 days' "
            "ORDER BY opened_at DESC, request_id DESC LIMIT %s", (MAX_REQUESTS,))]  # fmt: skip
        in_window = conn.execute("SELECT count(*) FROM complaints WHERE opened_at >= now() - interval '90 days'")
        assert in_window.fetchone()[0] > MAX_REQUESTS  # so the bound, not the data, ends the list
        old = conn.execute("SELECT count(*) FROM complaints WHERE opened_at < now() - interval '90 days'").fetchone()
    assert [r["service_request_id"] for r in listed] == newest and old[0] == 12


def test_one_request_is_its_latest_state_without_the_citizens_text(site):
    client = GeoReport(site.base)
    request = client.get_service_request("SZ-PRIVATE")
    assert {k: request[k] for k in ("service_request_id", "status", "service_code", "agency_responsible", "address")} \
        == {"service_request_id": "SZ-PRIVATE", "status": "open", "service_code": "noise",
            "agency_responsible": "Shenzhen 12345 hotline", "address": "Futian"}  # fmt: skip
    assert (request["lat"], request["long"]) == (round(float(events.FUTIAN[0]), 3), round(float(events.FUTIAN[1]), 3))
    assert "In progress" in request["status_notes"] and request["requested_datetime"].endswith("+08:00")
    assert GeoReport(site.base, output_format="xml").get_service_request("SZ-PRIVATE")["status"] == "open"
    for path in ("/requests/SZ-PRIVATE.json", "/requests/SZ-PRIVATE.xml", "/requests.json", "/requests.xml",
                 "/requests.json?service_request_id=SZ-PRIVATE"):  # fmt: skip
        body = requests.get(site.base + path, timeout=30).text
        assert "13800138000" not in body and "张三" not in body and "description" not in body


@pytest.mark.parametrize(("path", "params", "status", "says"), [
    ("/requests.json", {"start_date": "last tuesday"}, 400, "not a W3 date-time"),
    ("/requests.xml", {"start_date": "2026-11-01T00:00:00"}, 400, "no time zone"),
    ("/requests.json", {"status": "pending"}, 400, "Unknown status 'pending'"),
    ("/requests.xml", {"service_code": "potholes"}, 400, "Unknown service_code 'potholes'"),
    ("/requests.json", {"service_request_id": ",".join(f"SZ{i}" for i in range(500))}, 400, "At most 100"),
    ("/requests.json", {"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, 400, "90 days"),
    ("/requests.yaml", {}, 404, "Unknown format 'yaml'"),
    ("/requests/SZ-NONE.json", {}, 404, "No service request 'SZ-NONE'"),
    ("/requests/SZ%00.json", {}, 404, "No service request 'SZ"),
    ("/requests.xml", {"service_request_id": "SZ\x00"}, 400, "without NUL"),
    ("/requests.json", {"start_date": "2026-11-01T00:00:00Z\x00"}, 400, "not a W3 date-time"),
    ("/requests/<b>&amp;.xml", {}, 404, "No service request '<b>&amp;'"),
    ("/services/potholes.json", {}, 404, "No service 'potholes'"),
    ("/tokens/1.xml", {}, 404, "No tokens"),
    ("/", {}, 404, "No such GeoReport v2 resource"),
])  # fmt: skip
def test_bad_requests_are_the_spec_errors_in_the_format_asked(site, path, params, status, says):
    reply = site.get("/open311/v2" + path, "203.0.113.5", **params)
    assert reply.status_code == status
    assert [e["code"] for e in errors_of(reply)] == [status] and says in errors_of(reply)[0]["description"]


def test_writes_are_refused_as_read_only(site):
    reply = requests.post(
        site.base + "/requests.json",
        data={"service_code": "noise", "lat": "22.5", "long": "114"},
        headers={"X-Forwarded-For": "203.0.113.6", "Origin": "https://app.example"},  # another site: still a 405
        timeout=30,
    )
    assert reply.status_code == 405 and reply.headers["Allow"] == "GET, HEAD"
    assert "only reads" in errors_of(reply)[0]["description"]


def test_past_the_limit_an_address_gets_429_with_retry_after_and_others_do_not(site):
    address, replies = "198.51.100.7", []
    # A minute may turn during the loop and start a new count: two limits' worth and one more always reach it.
    for _ in range(2 * PER_MINUTE + 1):
        replies.append(site.get("/open311/v2/services.xml", address))
        if replies[-1].status_code == 429:
            break
    refused = replies[-1]
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert errors_of(refused)[0]["code"] == 429 and f"at most {PER_MINUTE}" in errors_of(refused)[0]["description"]
    assert {r.status_code for r in replies[:-1]} == {200}
    assert site.get("/open311/v2/services.xml", "198.51.100.8").status_code == 200


def test_only_the_open311_paths_pass_the_sign_in_gate_and_only_when_enabled(site):
    assert site.get("/open311/discovery.json", "203.0.113.7").json()["endpoints"][0]["url"] == (
        site.settings.dashboard_url + "/open311/v2")  # fmt: skip
    assert requests.get(site.url + "/_dash-layout", timeout=30).status_code == 401
    assert requests.get(site.url + "/open311x/v2/services.json", timeout=30).status_code == 401
    with in_process(site.settings.model_copy(update={"open311_enabled": False})) as closed:
        assert closed.get("/open311/v2/services.json").status_code == 401


def test_without_redis_to_count_on_the_answer_is_a_503_in_the_spec_format(site):
    # Fail closed, as the sign-in gate does: without its counter an address could read without limit.
    with in_process(site.settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})) as dark:
        reply = dark.get("/open311/v2/requests.json")
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "60"
    assert reply.json == [{"code": 503, "description": "The city's service requests cannot be read right now. "
                                                      "Try again in a minute."}]  # fmt: skip


def test_the_dashboards_own_accounts_may_serve_open311(accounts):  # noqa: F811 - the fixture imported above
    settings, urls = accounts
    own = as_account(settings, urls, "dashboard").model_copy(
        update={"redis_url": "redis://127.0.0.1:9/0", "database_url": "postgresql://nobody@127.0.0.1:9/none"}
    )
    with in_process(own) as client:
        assert client.get("/open311/v2/services.json").status_code == 200  # counted as ioc_dashboard, read as its role
        assert client.get("/open311/v2/requests.xml").status_code == 200


@contextmanager
def in_process(settings: Settings):
    """The app in this process (Flask's test client), its database pool closed afterwards rather than collected
    in one of the pool's own threads."""
    app = create_app(settings)
    try:
        yield app.server.test_client()
    finally:
        owners = [getattr(f, "__self__", None) for f in app.server.before_request_funcs[None]]
        services = next(o for o in owners if isinstance(o, Gate)).services
        if services._pool is not None:
            services._pool.close()


def errors_of(reply: requests.Response) -> list[dict]:
    """The spec's error document, from either format."""
    if reply.headers["Content-Type"].startswith("application/json"):
        return json.loads(reply.text)
    root = ET.fromstring(reply.content)
    assert root.tag == "errors"
    return [{"code": int(e.findtext("code")), "description": e.findtext("description")} for e in root]
