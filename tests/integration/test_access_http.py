"""Who may do what, through HTTP: the dashboard served by gunicorn, requests made by hand as a crafted client
would make them (the browser's own bodies for Dash callbacks), against real Redis and TimescaleDB.

Every state-changing callback is called anonymously, as a viewer and as a wall display: each is refused and the
database is unchanged. An operator's calls go through and are in the audit trail with the address.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
import requests

import bootstrap
from alerts.evaluate import Condition
from app import create_app
from auth.principal import cli_principal
from settings import Settings
from tests.integration.conftest import wait_until
from tests.integration.dash_http import DashCallbacks, pattern
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port

pytestmark = pytest.mark.integration
PROXY = "192.0.2.10"  # TEST-NET-1: never the address these tests connect from
MAX_FAILURES = 3


class Site:
    def __init__(self, settings: Settings, server: Served) -> None:
        self.settings, self.server, self.url = settings, server, server.url

    def session(self, role: str | None) -> requests.Session:
        """A client signed in as the account of ``role`` (None: nobody)."""
        client = requests.Session()
        if role is not None:
            account = ACCOUNTS[role]
            reply = client.post(self.url + "/login", data={"username": account.username,
                                                           "password": account.password},
                                allow_redirects=False, timeout=20)  # fmt: skip
            assert reply.status_code == 303, reply.text
        return client

    def db(self) -> psycopg.Connection:
        conn = bootstrap.db_connection(self.settings)
        conn.autocommit = True
        return conn

    def new_alert(self, subject: str) -> int:
        with self.db() as conn:
            store = bootstrap.alert_store(self.settings, conn)
            store.apply([Condition("pm25_high", subject, True, 400.0, 150.0, "warning", "PM2.5 high", {},
                                   datetime.now(UTC))])  # fmt: skip
            return conn.execute("SELECT id FROM alerts WHERE subject = %s", (subject,)).fetchone()[0]

    def state(self) -> dict[str, list]:
        """Everything a state-changing callback could touch (a sign-in's own bookkeeping aside)."""
        tables = {"alerts": "*", "alert_events": "*", "alert_silences": "*", "alert_outbox": "*", "auth_displays": "*",
                  "auth_users": "id, username, full_name, role, password_hash, disabled_at"}  # fmt: skip
        with self.db() as conn:
            return {t: conn.execute(f"SELECT {cols} FROM {t} ORDER BY id").fetchall() for t, cols in tables.items()}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    base = Settings()
    # Every test here signs in from 127.0.0.1, many times a minute: the per-address limit is tested on its own.
    with isolated(base, http_port=free_port(), display_recheck_s=0.5, signin_max_failures=MAX_FAILURES,
                  signin_attempts_per_minute=10_000,
                  trusted_user_header="X-Forwarded-User", trusted_proxies=(PROXY,)) as settings:  # fmt: skip
        add_accounts(settings)
        server = Served(settings, tmp_path_factory.mktemp("access") / "gunicorn.log", workers=1)
        server.start()
        try:
            yield Site(settings, server)
        finally:
            server.stop()


def post_callback(client: requests.Session, url: str, body: dict, origin: str | None = None) -> requests.Response:
    headers = {"Origin": origin} if origin else {}
    return client.post(url + "/_dash-update-component", json=body, headers=headers, timeout=20)


def state_changing_bodies(site: Site, alert_id: int, silence_id: int) -> dict[str, dict]:
    """The browser's bodies for every callback that changes something, built from an admin's view of the app."""
    callbacks = DashCallbacks(site.session("admin"), site.url)
    bodies = {}
    for action in ("acknowledge", "resolve", "note", "assign"):
        name, clicks, changed = pattern("alerts-action", "action", action)
        bodies[f"alert {action}"] = callbacks.body("alerts-message.children", {
            name: clicks, "alerts-selected.data": alert_id, "alerts-note.value": "crafted",
            "alerts-assignee.value": ACCOUNTS["operator"].username, "alerts-changed.data": 0}, changed)  # fmt: skip
    silence_values = {"alerts-silence-create.n_clicks": 1, "alerts-silence-matchers.value": "severity=critical",
                      "alerts-silence-starts-min.value": 0, "alerts-silence-hours.value": 87600,
                      "alerts-silence-comment.value": "crafted", "alerts-changed.data": 0}  # fmt: skip
    expire, expire_clicks, expire_changed = pattern("alerts-silence-expire", "silence", str(silence_id))
    silence_values[expire] = []
    bodies["silence create"] = callbacks.body("alerts-silence-message.children", silence_values,
                                              "alerts-silence-create.n_clicks")  # fmt: skip
    bodies["silence expire"] = callbacks.body("alerts-silence-message.children",
                                              {**silence_values, expire: expire_clicks}, expire_changed)  # fmt: skip
    user_values = {"admin-add-user.n_clicks": 1, "admin-new-username.value": "mallory",
                   "admin-new-role.value": "admin", "admin-new-full-name.value": "", "admin-new-password.value": None,
                   "admin-user-pick.value": ACCOUNTS["operator"].username, "admin-user-role.value": "admin",
                   "admin-changed.data": 0}  # fmt: skip
    for action in ("role", "disable", "reset"):
        name, clicks, changed = pattern("admin-user-action", "action", action)
        bodies[f"user {action}"] = callbacks.body("admin-user-message.children", {**user_values, name: clicks},
                                                  changed)  # fmt: skip
    name, _, _ = pattern("admin-user-action", "action", "role")
    bodies["user add"] = callbacks.body("admin-user-message.children", {**user_values, name: []},
                                        "admin-add-user.n_clicks")  # fmt: skip
    display_values = {"admin-issue-display.n_clicks": 1, "admin-display-name.value": "rogue-wall",
                      "admin-display-playlist.value": ["overview"], "admin-display-interval.value": 30,
                      "admin-changed.data": 0}  # fmt: skip
    revoke, revoke_clicks, revoke_changed = pattern("admin-revoke-display", "display", "lobby")
    bodies["display issue"] = callbacks.body("admin-display-message.children", {**display_values, revoke: []},
                                             "admin-issue-display.n_clicks")  # fmt: skip
    bodies["display revoke"] = callbacks.body("admin-display-message.children",
                                              {**display_values, revoke: revoke_clicks}, revoke_changed)  # fmt: skip
    return bodies


def test_nothing_but_sign_in_and_health_answers_without_a_session(site):
    anonymous = site.session(None)
    assert anonymous.get(site.url + "/healthz", timeout=10).status_code == 200
    assert anonymous.get(site.url + "/login", timeout=10).status_code == 200
    page = anonymous.get(site.url + "/alerts?alert=3", allow_redirects=False, timeout=10)
    assert page.status_code == 303 and page.headers["Location"] == "/login?next=/alerts%3Falert%3D3"
    for path in ("/_dash-layout", "/_dash-dependencies", "/geo/districts.geojson", "/audit.csv"):
        reply = anonymous.get(site.url + path, timeout=10)
        assert reply.status_code == 401 and reply.json()["error"] == "signed_out", path
    reply = anonymous.post(site.url + "/_dash-update-component", json={"output": "alerts-rules.children"}, timeout=10)
    assert reply.status_code == 401


def test_anonymous_viewer_and_display_posts_to_state_changing_callbacks_change_nothing(site):
    alert_id = site.new_alert(f"aq-{time.time_ns()}")
    operator = site.session("operator")
    silence = DashCallbacks(operator, site.url).body("alerts-silence-message.children", {
        "alerts-silence-create.n_clicks": 1, "alerts-silence-matchers.value": "team=water",
        "alerts-silence-starts-min.value": 0, "alerts-silence-hours.value": 1, "alerts-silence-comment.value": "x",
        "alerts-changed.data": 0, pattern("alerts-silence-expire", "silence", "0")[0]: []},
        "alerts-silence-create.n_clicks")  # fmt: skip
    assert "created" in post_callback(operator, site.url, silence).text
    with site.db() as conn:
        silence_id = conn.execute("SELECT max(id) FROM alert_silences").fetchone()[0]
        token = bootstrap.access_commands(site.settings, site.db).issue_display(
            cli_principal("tests"), "lobby", ["overview"], 30).secret  # fmt: skip
    display = site.session(None)
    assert display.get(f"{site.url}/wall?token={token}", timeout=10).url == site.url + "/wall"
    bodies = state_changing_bodies(site, alert_id, silence_id)
    before = site.state()
    for who, client, status in (("anonymous", site.session(None), 401), ("viewer", site.session("viewer"), 403),
                                ("display", display, 403)):  # fmt: skip
        for what, body in bodies.items():
            reply = post_callback(client, site.url, body)
            assert reply.status_code == status, f"{who} {what}: HTTP {reply.status_code} {reply.text[:200]}"
    assert site.state() == before  # refused, and nothing changed
    with site.db() as conn:
        denied = conn.execute("SELECT count(*) FROM audit_log WHERE actor = %s AND action = 'access'"
                              " AND outcome = 'denied'", (ACCOUNTS["viewer"].username,)).fetchone()[0]  # fmt: skip
    assert denied == len(bodies)  # a signed-in person's refused attempts are on record


def test_an_operators_actions_go_through_as_themselves_and_are_audited_with_the_address(site):
    alert_id = site.new_alert(f"aq-{time.time_ns()}")
    operator = site.session("operator")
    bodies = state_changing_bodies(site, alert_id, silence_id=0)
    for what in ("alert acknowledge", "alert note", "alert assign", "alert resolve"):
        reply = post_callback(operator, site.url, bodies[what])
        assert reply.status_code == 200 and "Refused" not in reply.text, (what, reply.text[:300])
    name = ACCOUNTS["operator"].username
    with site.db() as conn:
        alert = conn.execute("SELECT status, acknowledged_by, resolved_by, assignee FROM alerts WHERE id = %s",
                             (alert_id,)).fetchone()  # fmt: skip
        events = conn.execute("SELECT actor, action FROM alert_events WHERE alert_id = %s AND actor <> 'evaluator'"
                              " ORDER BY id", (alert_id,)).fetchall()  # fmt: skip
        trail = conn.execute("SELECT action, outcome, address, role FROM audit_log WHERE actor = %s AND target = %s"
                             " ORDER BY id", (name, f"alert:{alert_id}")).fetchall()  # fmt: skip
    assert alert == ("resolved", name, name, name)
    assert events == [(name, "acknowledged"), (name, "note"), (name, "assigned"), (name, "resolved")]
    assert trail == [(f"alert.{a}", "ok", "127.0.0.1", "operator") for a in ("acknowledge", "note", "assign",
                                                                               "resolve")]  # fmt: skip
    # An admin's callbacks are not an operator's: refused (and recorded), not carried out.
    assert post_callback(operator, site.url, bodies["user add"]).status_code == 403


def silence_body(site: Site, client: requests.Session, hours: object, starts_min: object = 0) -> dict:
    return DashCallbacks(client, site.url).body("alerts-silence-message.children", {
        "alerts-silence-create.n_clicks": 1, "alerts-silence-matchers.value": "team=water, subject=wl-9",
        "alerts-silence-starts-min.value": starts_min, "alerts-silence-hours.value": hours,
        "alerts-silence-comment.value": "maintenance", "alerts-changed.data": 0,
        pattern("alerts-silence-expire", "silence", "0")[0]: []}, "alerts-silence-create.n_clicks")  # fmt: skip


@pytest.mark.parametrize(("hours", "starts_min", "said"), [
    (7 * 24 + 1, 0, "at most 168 hours"), (1, -5, "cannot start in the past"), (1e300, 0, "at most 168 hours"),
    ("inf", 0, "must be a number"), (1, "nan", "must be a number"), (-2, 0, "more than 0"),
])  # fmt: skip
def test_the_server_refuses_a_silence_too_long_or_starting_in_the_past(site, hours, starts_min, said):
    operator = site.session("operator")
    with site.db() as conn:
        before = conn.execute("SELECT count(*) FROM alert_silences").fetchone()[0]
    reply = post_callback(operator, site.url, silence_body(site, operator, hours, starts_min))
    assert reply.status_code == 200 and said in reply.text, reply.text[:300]
    with site.db() as conn:
        assert conn.execute("SELECT count(*) FROM alert_silences").fetchone()[0] == before
        refused = conn.execute("SELECT outcome FROM audit_log WHERE action = 'alert.silence' ORDER BY id DESC"
                               " LIMIT 1").fetchone()  # fmt: skip
    assert refused == ("failed",)


def test_repeated_wrong_passwords_lock_the_account(site):
    bootstrap.access_commands(site.settings, site.db).add_user(cli_principal("tests"), "locky", "viewer", "",
                                                                "the right password 1")  # fmt: skip
    client = site.session(None)

    def sign_in(password: str) -> int:
        return client.post(site.url + "/login", data={"username": "locky", "password": password},
                           allow_redirects=False, timeout=20).status_code  # fmt: skip

    assert [sign_in("wrong password") for _ in range(MAX_FAILURES)] == [401] * MAX_FAILURES
    assert sign_in("the right password 1") == 401  # locked: even the right password is refused for a while
    with site.db() as conn:
        row = conn.execute("SELECT locked_until > now() FROM auth_users WHERE username = 'locky'").fetchone()
        outcomes = conn.execute("SELECT outcome, details->>'reason' FROM audit_log WHERE target = 'user:locky'"
                                " AND action = 'signin' ORDER BY id").fetchall()  # fmt: skip
    assert row == (True,)
    assert outcomes == [("failed", "wrong_password")] * MAX_FAILURES + [("denied", "locked")]


def test_the_trusted_header_counts_only_from_a_trusted_proxy(site):
    direct = requests.get(site.url + "/_dash-layout", headers={"X-Forwarded-User": "mallory"}, timeout=10)
    assert direct.status_code == 401  # 127.0.0.1 is not a trusted proxy: the header is ignored
    with site.db() as conn:
        assert conn.execute("SELECT count(*) FROM auth_users WHERE username = 'mallory'").fetchone()[0] == 0
    client = create_app(site.settings).server.test_client()  # the same app, as if reached through the proxy
    proxied = client.get("/_dash-layout", headers={"X-Forwarded-User": "Wang.Wei", "X-Forwarded-For": "10.1.2.3"},
                         environ_base={"REMOTE_ADDR": PROXY})  # fmt: skip
    assert proxied.status_code == 200 and "wang.wei" in proxied.text
    with site.db() as conn:
        created = conn.execute("SELECT role, origin FROM auth_users WHERE username = 'wang.wei'").fetchone()
        address = conn.execute("SELECT address FROM audit_log WHERE target = 'user:wang.wei'").fetchone()
    assert created == ("viewer", "sso") and address == ("10.1.2.3",)


def wall_body(site: Site, client: requests.Session) -> dict:
    """The wall's own callback (its playlist), as the wall page posts it."""
    return DashCallbacks(client, site.url).body("wall-config.data", {"wall-query.data": {}}, "wall-query.data")


def test_a_display_token_is_exchanged_for_a_wall_session_and_revoking_it_stops_the_wall(site):
    commands = bootstrap.access_commands(site.settings, site.db)
    issued = commands.issue_display(cli_principal("tests"), "atrium", ["overview", "alerts"], 20)
    wall = site.session(None)
    reply = wall.get(f"{site.url}/wall?token={issued.secret}", allow_redirects=False, timeout=10)
    assert reply.status_code == 303 and reply.headers["Location"] == "/wall"  # the token leaves the address bar
    assert "HttpOnly" in reply.headers["Set-Cookie"] and "SameSite=Lax" in reply.headers["Set-Cookie"]
    assert wall.get(site.url + "/wall", timeout=10).status_code == 200
    assert wall.get(site.url + "/alerts", allow_redirects=False, timeout=10).headers["Location"] == "/wall"
    body = wall_body(site, wall)
    reply = post_callback(wall, site.url, body)
    assert reply.status_code == 200  # the token's playlist, whatever the page asked for
    assert reply.json()["response"]["wall-config"]["data"]["playlist"] == ["overview", "alerts"]
    commands.revoke_display(cli_principal("tests"), "atrium")

    def refused() -> dict | None:
        reply = post_callback(wall, site.url, body)
        return reply.json() if reply.status_code == 401 else None

    assert wait_until(refused, timeout=30, what="the revoked wall refused")["error"] == "display_revoked"
    again = site.session(None).get(f"{site.url}/wall?token={issued.secret}", allow_redirects=False, timeout=10)
    assert again.status_code == 403 and "not valid" in again.text


def test_a_role_change_or_a_disabled_account_takes_effect_on_the_next_request(site):
    commands = bootstrap.access_commands(site.settings, site.db)
    commands.add_user(cli_principal("tests"), "shift.lead", "operator", "", "shift lead password")
    client = requests.Session()
    client.post(site.url + "/login", data={"username": "shift.lead", "password": "shift lead password"}, timeout=20)
    alert_id = site.new_alert(f"aq-{time.time_ns()}")
    acknowledge = state_changing_bodies(site, alert_id, 0)["alert acknowledge"]
    commands.set_role(cli_principal("tests"), "shift.lead", "viewer")
    assert post_callback(client, site.url, acknowledge).status_code == 403
    commands.disable(cli_principal("tests"), "shift.lead")
    assert client.get(site.url + "/_dash-layout", timeout=10).status_code == 401


def test_a_post_from_another_site_is_refused(site):
    operator = site.session("operator")
    body = state_changing_bodies(site, site.new_alert(f"aq-{time.time_ns()}"), 0)["alert acknowledge"]
    assert post_callback(operator, site.url, body, origin="https://evil.example").status_code == 403
    assert post_callback(operator, site.url, body, origin=site.url).status_code == 200


def test_sign_out_ends_the_session(site):
    viewer = site.session("viewer")
    assert viewer.get(site.url + "/_dash-layout", timeout=10).status_code == 200
    cookie = viewer.cookies.get("ioc_session")
    assert viewer.post(site.url + "/logout", allow_redirects=False, timeout=10).status_code == 303
    replay = requests.get(site.url + "/_dash-layout", cookies={"ioc_session": cookie}, timeout=10)
    assert replay.status_code == 401  # the old cookie is dead on the server, not just forgotten by the browser


def test_only_admins_read_the_audit_trail(site):
    assert site.session("operator").get(site.url + "/audit.csv", timeout=10).status_code == 403
    export = site.session("admin").get(site.url + "/audit.csv?action=signin", timeout=10)
    assert export.status_code == 200 and export.text.startswith("at,actor,role,action,target,outcome,address")
    assert all(",signin," in line for line in export.text.splitlines()[1:])


def test_the_audit_trail_refuses_update_delete_and_truncate(site):
    with site.db() as conn:
        conn.execute("INSERT INTO audit_log (actor, action, outcome) VALUES ('tests', 'probe', 'ok')")
        for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log",
                          "TRUNCATE audit_log", "UPDATE alert_events SET actor = 'x'", "DELETE FROM alert_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'probe'").fetchone()[0] == 1


def test_with_the_database_down_sign_in_and_pages_answer_503_with_a_sentence(own_database):
    from tests.integration.conftest import refuse_connections

    settings, admin_conn, name = own_database
    add_accounts(settings)
    client = create_app(settings).server.test_client()
    viewer = ACCOUNTS["viewer"]
    assert client.post("/login", data={"username": viewer.username, "password": viewer.password}).status_code == 303
    refuse_connections(admin_conn, name)
    layout = client.get("/_dash-layout")
    assert layout.status_code == 503 and "does not answer" in layout.json["message"]
    signin = client.post("/login", data={"username": viewer.username, "password": viewer.password})
    assert signin.status_code == 503 and "does not answer" in signin.text
