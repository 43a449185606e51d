"""The open-data API (/api/v1) served by gunicorn against real Redis and TimescaleDB, called as a developer would.

schemathesis generates requests from the served OpenAPI document and checks every answer against it; the rest
checks keys (401, 403, revocation, the key opening nothing else), the rate limit (429 with Retry-After), cursor
pages, ETags, and that no answer carries a complaint's text or an officer's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import hypothesis
import psycopg
import pytest
import requests
import schemathesis
from psycopg.conninfo import make_conninfo
from schemathesis import checks

import bootstrap
from alerts.evaluate import Condition
from alerts.forecast_judge import Prediction
from api.keys import ApiKeyCommands
from api.openapi import OPENAPI_PATH, document
from auth.principal import cli_principal
from infra import redis_acl
from settings import Settings
from storage import roles
from storage.event_store import Batch, EventStore
from streams.complaints import ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading
from tests.integration.conftest import wait_until
from tests.integration.dash_http import DashCallbacks, pattern
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port, signed_in

pytestmark = pytest.mark.integration
COMPLAINT_TEXT = "PRIVATE-COMPLAINT-TEXT my neighbour Wang Fang at 12 Shennan Road"
NOTE_TEXT = "PRIVATE-OFFICER-NOTE called the resident back"
OFFICER = ACCOUNTS["operator"].username
DEFAULT_PER_MINUTE = 3
NOW = datetime.now(UTC).replace(microsecond=0)
# A forecast rule's alert: made a minute ago, 2.8 m expected in 25 minutes (18 at the earliest, no latest).
PREDICTION = Prediction(NOW.timestamp() - 60, NOW.timestamp() + 1440, NOW.timestamp() + 1020, None, 0.8)


class Api:
    """The served dashboard, its settings and the keys issued for the tests."""

    def __init__(self, settings: Settings, url: str, keys: dict[str, str]) -> None:
        self.settings, self.url, self.keys = settings, url, keys

    def get(self, path: str, key: str | None = "all", headers: dict | None = None, **params) -> requests.Response:
        sent = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return requests.get(self.url + path, params=params, headers=sent | (headers or {}), timeout=30,
                            allow_redirects=False)  # fmt: skip

    def db(self) -> psycopg.Connection:
        conn = bootstrap.db_connection(self.settings)
        conn.autocommit = True
        return conn


def seed(settings: Settings) -> None:
    """Sensors, complaints with their citizens' words, data-centre samples, and an alert an officer acted on."""
    sid = iter(range(10_000))

    def reading(device: str, district: str, metric: str, value: float, ago: int) -> SensorReading:
        return SensorReading(NOW - timedelta(minutes=ago), device, "air_quality", metric, value, "ug/m3",
                             22.543123, 114.059687, district, None, f"{next(sid)}-0")  # fmt: skip

    def complaint(request_id: str, status: str, category: str, ago: int) -> ComplaintEvent:
        return ComplaintEvent(NOW - timedelta(minutes=ago), request_id, status, category, "futian", 22.54, 114.06,
                              "hotline", COMPLAINT_TEXT, None, None, f"{next(sid)}-0")  # fmt: skip

    store = EventStore(bootstrap.db_connection(settings))
    store.write(Batch(
        readings=[reading(f"aq-{n}", d, m, 30.0 + n, n + 5) for n, d in enumerate(("futian", "nanshan", "luohu"))
                  for m in ("pm25", "pm10")],
        complaints=[complaint("r-1", "open", "noise", 50), complaint("r-2", "open", "road", 40),
                    complaint("r-1", "closed", "noise", 20)],
        samples=[PowerSample(NOW - timedelta(minutes=m), "dc-a", 150.0, 100.0, 24.0, 45.0, None, f"{next(sid)}-0")
                 for m in (30, 20, 10)],
    ))  # fmt: skip
    store.close()
    with bootstrap.db_connection(settings) as conn:
        alerts = bootstrap.alert_store(settings, conn)
        alerts.apply([Condition("pm25_high", "aq-1", True, 400.0, 150.0, "warning", "PM2.5 high", {}, NOW)])
        alert_id = conn.execute("SELECT id FROM alerts").fetchone()[0]
        alerts.acknowledge(alert_id, OFFICER, NOTE_TEXT)
        alerts.assign(alert_id, OFFICER, OFFICER)
        alerts.apply([Condition("wl_forecast", "wl-1", True, 2.1, 2.8, "warning", "Gauge wl-1 rising", {},
                                NOW - timedelta(minutes=1), PREDICTION)])  # fmt: skip


def own_accounts(settings: Settings) -> tuple[dict[str, str], list[str]]:
    """The environment that puts the served dashboard on its own Redis user (this test's copy of the ACL) and
    PostgreSQL role, as in production, so the API is tested with no more than the dashboard may do; and the Redis
    users made. (The URLs are secrets, which ``Served`` takes apart from the settings.)"""
    prefix = f"{settings.consumer_group}_"
    names = redis_acl.apply_acl(bootstrap.redis_client(settings), settings, {}, user_prefix=prefix)
    parts = urlsplit(settings.redis_url)
    redis_url = urlunsplit(parts._replace(netloc=f"{prefix}{redis_acl.USERS['dashboard']}@{parts.netloc}"))
    env = {"IOC_DASHBOARD_REDIS_URL": redis_url,
           "IOC_DASHBOARD_DATABASE_URL": make_conninfo(settings.database_url, user=roles.DASHBOARD)}  # fmt: skip
    return env, names


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> Iterator[Api]:
    with isolated(Settings(), http_port=free_port(), api_requests_per_minute=DEFAULT_PER_MINUTE,
                  api_page_max=50, signin_attempts_per_minute=10_000) as settings:  # fmt: skip
        accounts_env, redis_users = own_accounts(settings)
        add_accounts(settings)
        seed(settings)
        commands = ApiKeyCommands(lambda: bootstrap.db_connection(settings))
        admin = cli_principal("tests")
        keys = {
            "all": commands.issue(admin, "all-scopes", ["kpis", "districts", "sensors", "history", "complaints",
                                                        "datacenters", "alerts"], 100_000).secret,
            "kpis": commands.issue(admin, "kpis-only", ["kpis"], 100_000).secret,
            "limited": commands.issue(admin, "limited", ["districts"]).secret,
            "revoked": commands.issue(admin, "revoked", ["districts"], 100_000).secret,
        }  # fmt: skip
        commands.revoke(admin, "revoked")
        server = Served(settings, tmp_path_factory.mktemp("api") / "gunicorn.log", workers=1, env=accounts_env)
        server.start()
        try:
            site = Api(settings, server.url, keys)
            # The first API read starts the worker's snapshot builder; wait for a snapshot holding the alert.
            wait_until(lambda: site.get("/api/v1/alerts").status_code == 200 and site.get("/api/v1/alerts").json()
                       ["data"], timeout=60, what="the live snapshot with the seeded alert")  # fmt: skip
            yield site
        finally:
            server.stop()
            bootstrap.redis_client(settings).execute_command("ACL", "DELUSER", *redis_users)


def test_every_answer_matches_the_served_document(api: Api):
    # schemathesis' Python API rather than its pytest plugin's lazy fixture, which does not run under pytest 9.
    schema = schemathesis.openapi.from_url(api.url + OPENAPI_PATH)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every endpoint and the reference page (schemathesis leaves out the document it was loaded from).
    assert {o.path for o in operations} == set(document(50, 1)["paths"]) - {OPENAPI_PATH}
    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=25, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
        def conforms(case) -> None:
            case.call_and_validate(
                base_url=api.url, headers={"Authorization": f"Bearer {api.keys['all']}"},
                checks=[checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
                        checks.response_schema_conformance, checks.response_headers_conformance],
            )  # fmt: skip

        conforms()


def test_a_key_reads_only_its_scopes(api: Api):
    assert api.get("/api/v1/kpis", "kpis").status_code == 200
    for path in ("/api/v1/sensors", "/api/v1/districts", "/api/v1/alerts", "/api/v1/complaints/aggregates"):
        reply = api.get(path, "kpis")
        assert reply.status_code == 403, path
        assert reply.json()["error"] == "forbidden"


def test_missing_unknown_and_revoked_keys_are_refused(api: Api):
    assert api.get("/api/v1/districts", key=None).status_code == 401
    assert api.get("/api/v1/districts", key="revoked").status_code == 401
    unknown = api.get("/api/v1/districts", key=None, headers={"X-API-Key": "ioca_" + "x" * 43})
    assert unknown.status_code == 401 and unknown.json()["error"] == "unauthorized"
    assert api.get("/api/v1/districts", key=None, headers={"X-API-Key": api.keys["all"]}).status_code == 200
    # Revoking takes effect at the key's next request.
    commands = ApiKeyCommands(lambda: bootstrap.db_connection(api.settings))
    secret = commands.issue(cli_principal("tests"), "short-lived", ["districts"], 100).secret
    assert api.get("/api/v1/districts", key=None, headers={"X-API-Key": secret}).status_code == 200
    commands.revoke(cli_principal("tests"), "short-lived")
    assert api.get("/api/v1/districts", key=None, headers={"X-API-Key": secret}).status_code == 401


def test_the_rate_limit_answers_429_with_retry_after(api: Api):
    # The window is a clock minute: whichever minute boundary falls among these requests, one minute sees more
    # than the limit (2 × limit + 1 requests over at most two minutes).
    replies = [api.get("/api/v1/districts", "limited").status_code for _ in range(2 * DEFAULT_PER_MINUTE + 1)]
    assert 429 in replies and replies[0] == 200
    refused = api.get("/api/v1/districts", "limited")
    if refused.status_code == 429:
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert refused.json()["error"] == "rate_limited"
    assert api.get("/api/v1/districts").status_code == 200  # another key has its own count


def test_a_key_opens_no_page_and_no_callback(api: Api):
    page = api.get("/overview")
    assert page.status_code == 303 and page.headers["Location"].startswith("/login")
    assert api.get("/_dash-layout").status_code == 401
    assert api.get("/api/v1/nothing-here").status_code == 404
    assert api.get("/api/v1/nothing-here").headers["Content-Type"] == "application/json"


def test_cursor_pages_cover_the_list_once(api: Api):
    seen, url, pages = [], "/api/v1/districts?limit=2", 0
    while url:
        reply = requests.get(api.url + url, headers={"Authorization": f"Bearer {api.keys['all']}"}, timeout=30)
        assert reply.status_code == 200
        body = reply.json()
        seen += [f["id"] for f in body["features"]]
        url, pages = body["next"], pages + 1
        if url:
            assert reply.headers["Link"] == f'<{url}>; rel="next"'
    assert len(seen) == len(set(seen)) == len(bootstrap.districts_geojson(api.settings)["features"])
    assert pages == -(-len(seen) // 2)
    sensors = api.get("/api/v1/sensors", limit=2).json()
    rest = api.get("/api/v1/sensors", limit=2, cursor=sensors["next_cursor"]).json()
    assert [d["id"] for d in sensors["data"] + rest["data"]] == ["aq-0", "aq-1", "aq-2"]
    assert all(len(d["readings"]) == 2 for d in sensors["data"] + rest["data"])
    assert api.get("/api/v1/sensors", limit=2, cursor=sensors["next_cursor"] + "x").status_code == 400
    other = api.get("/api/v1/sensors", limit=2, cursor=sensors["next_cursor"], district="futian")
    assert other.status_code == 400 and other.json()["parameter"] == "cursor"


def test_etag_answers_304_when_nothing_changed(api: Api):
    first = api.get("/api/v1/districts")
    tag = first.headers["ETag"]
    again = api.get("/api/v1/districts", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
    assert api.get("/api/v1/districts", headers={"If-None-Match": '"other"'}).status_code == 200


def test_bad_parameters_are_4xx_with_a_reason(api: Api):
    cases = {("/api/v1/history", ()): 400, ("/api/v1/history", (("metric", "pm25"), ("bucket", "2m"))): 400,
             ("/api/v1/history", (("metric", "pm25"), ("since", "yesterday"))): 400,
             ("/api/v1/history", (("metric", "pm25"), ("since", "2026-01-01T00:00:00Z"),
                                  ("until", "2026-12-01T00:00:00Z"))): 422,
             ("/api/v1/history", (("metric", "pm25"), ("bucket", "1m"), ("since", "2026-01-01T00:00:00Z"),
                                  ("until", "2026-01-02T00:00:00Z"))): 422,
             ("/api/v1/districts", (("limit", "0"),)): 400, ("/api/v1/districts", (("lmit", "2"),)): 400,
             ("/api/v1/complaints/aggregates", (("by", "district,district"),)): 400}  # fmt: skip
    for (path, params), status in cases.items():
        reply = api.get(path, **dict(params))
        assert reply.status_code == status, (path, params, reply.text)
        assert reply.json()["message"]


def test_figures_come_from_the_seeded_data(api: Api):
    groups = api.get("/api/v1/complaints/aggregates", by="category", since=iso(NOW - timedelta(hours=2)),
                     until=iso(NOW + timedelta(minutes=1))).json()["data"]  # fmt: skip
    assert groups == [{"category": "noise", "opened": 1, "closed": 1}, {"category": "road", "opened": 1, "closed": 0}]
    dc = api.get("/api/v1/datacenters", since=iso(NOW - timedelta(hours=1)), until=iso(NOW)).json()
    assert dc["city"]["pue"] == pytest.approx(1.5) and dc["data"][0]["samples"] == 3
    sensors = api.get("/api/v1/sensors").json()["data"]
    assert {(d["lat"], d["lon"]) for d in sensors} == {(22.543, 114.06)}  # three decimals, the setting's default
    csv_text = api.get("/api/v1/history", metric="pm25", format="csv", since=iso(NOW - timedelta(hours=1)),
                       until=iso(NOW)).text  # fmt: skip
    assert csv_text.splitlines()[0] == "bucket,district,device,readings,mean,low,high"
    assert len(csv_text.splitlines()) == 4  # one bucket per district


def test_no_answer_holds_complaint_text_or_officer_names(api: Api):
    span = {"since": iso(NOW - timedelta(hours=3)), "until": iso(NOW + timedelta(minutes=1))}
    bodies = [
        api.get(path, **params).text
        for path, params in (
            ("/api/v1/kpis", {}),
            ("/api/v1/kpis/range", span),
            ("/api/v1/districts", {}),
            ("/api/v1/sensors", {}),
            ("/api/v1/history", {"metric": "pm25", **span}),
            ("/api/v1/history", {"metric": "pm25", "device": "aq-1"}),
            ("/api/v1/complaints/aggregates", {"by": "district,category,hour", **span}),
            ("/api/v1/complaints/aggregates", {"by": "category", "format": "csv", **span}),
            ("/api/v1/datacenters", span),
            ("/api/v1/alerts", {}),
            (OPENAPI_PATH, {}),
            ("/api/v1/docs", {}),
        )
    ]
    alerts = json.loads(bodies[9])["data"]
    assert alerts and alerts[0]["status"] == "acknowledged"  # the alert an officer acted on is there, nameless
    for body in bodies:
        for private in ("PRIVATE-COMPLAINT-TEXT", "Wang Fang", "PRIVATE-OFFICER-NOTE", OFFICER):
            assert private not in body
    for body in bodies[:10]:  # the data, not the document (whose schema objects have descriptions)
        assert not re.search(r'"(assignee|description|note|acknowledged_by|full_name)"', body)


def test_a_predicted_alert_says_when_its_level_is_expected_and_other_alerts_say_null(api: Api):
    by_rule = {a["rule"]: a for a in api.get("/api/v1/alerts").json()["data"]}
    forecast = by_rule["wl_forecast"]
    assert forecast["predicted"] is True
    assert forecast["forecast_at"] == iso(NOW - timedelta(minutes=1))
    assert forecast["expected_at"] == iso(NOW + timedelta(minutes=24))
    assert forecast["expected_earliest"] == iso(NOW + timedelta(minutes=17))
    assert forecast["expected_latest"] is None  # the slowest trend never gets there: no latest
    plain = by_rule["pm25_high"]
    assert plain["predicted"] is False
    assert [plain[k] for k in ("forecast_at", "expected_at", "expected_earliest", "expected_latest")] == [None] * 4


def test_use_is_recorded_once_an_hour_in_the_audit_trail(api: Api):
    for _ in range(3):
        assert api.get("/api/v1/kpis", "kpis").status_code == 200
    with api.db() as conn:
        rows, hours = conn.execute("SELECT count(*), count(DISTINCT date_trunc('hour', at)) FROM audit_log"
                                   " WHERE action = 'api.use' AND actor = 'apikey:kpis-only'").fetchone()  # fmt: skip
        last = conn.execute("SELECT last_used_at FROM api_keys WHERE name = 'kpis-only'").fetchone()[0]
    assert rows == hours >= 1  # one entry per clock hour of use, however many requests
    assert last is not None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def key_bodies(client: requests.Session, api: Api, name: str) -> tuple[dict, dict]:
    """The browser's bodies for "Issue API key" (kpis scope) and "Revoke" of ``name`` on the admin page."""
    callbacks = DashCallbacks(client, api.url)
    revoke, clicks, changed = pattern("admin-revoke-api-key", "key", name)
    values = {"admin-issue-api-key.n_clicks": 1, "admin-api-key-name.value": name,
              "admin-api-key-scopes.value": ["kpis"], "admin-api-key-per-minute.value": None,
              "admin-changed.data": 0}  # fmt: skip
    issue = callbacks.body("admin-api-key-message.children", {**values, revoke: []}, "admin-issue-api-key.n_clicks")
    return issue, callbacks.body("admin-api-key-message.children", {**values, revoke: clicks}, changed)


def test_admins_issue_and_revoke_keys_on_the_admin_page_and_nobody_else_can(api: Api):
    admin = signed_in(api.url, "admin")
    issue, revoke = key_bodies(admin, api, "from-admin-page")
    for role in ("operator", "viewer"):
        crafted = signed_in(api.url, role)
        reply = crafted.post(api.url + "/_dash-update-component", json=issue, timeout=20)
        assert reply.status_code == 403, role
    reply = admin.post(api.url + "/_dash-update-component", json=issue, timeout=20)
    assert reply.status_code == 200
    secret = re.search(r"ioca_[A-Za-z0-9_-]{43}", reply.text).group(0)  # shown once, in the message
    assert api.get("/api/v1/kpis", key=None, headers={"X-API-Key": secret}).status_code == 200
    with api.db() as conn:
        stored = conn.execute("SELECT token_sha256, scopes FROM api_keys WHERE name = 'from-admin-page'").fetchone()
        assert secret.encode() not in bytes(stored[0]) and stored[1] == ["kpis"]  # only its digest is kept
    assert admin.post(api.url + "/_dash-update-component", json=revoke, timeout=20).status_code == 200
    assert api.get("/api/v1/kpis", key=None, headers={"X-API-Key": secret}).status_code == 401
    with api.db() as conn:
        actions = conn.execute("SELECT action, actor, outcome FROM audit_log WHERE target = 'apikey:from-admin-page'"
                               " ORDER BY id").fetchall()  # fmt: skip
    admin_name = ACCOUNTS["admin"].username
    assert ("apikey.issue", admin_name, "ok") in actions and ("apikey.revoke", admin_name, "ok") in actions
