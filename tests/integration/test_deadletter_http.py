"""The pipeline page's dead letters through HTTP, as a crafted client would ask (the browser's own callback bodies),
against the dashboard served by gunicorn, real Redis and TimescaleDB: only an admin's Replay goes through, and it is
audited with the address; a viewer or operator changes nothing; the inspector shows text, bounded, and withholds
complaint text from those who may not read it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import requests

import bootstrap
from settings import Settings
from tests.integration import events
from tests.integration.dash_http import DashCallbacks
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port

pytestmark = pytest.mark.integration
T = 1_764_000_000_000
WORDS = "my neighbour Li Wei at no. 5 plays drums at night"


class Site:
    def __init__(self, settings: Settings, server: Served) -> None:
        self.settings, self.url = settings, server.url
        self.redis: redis.Redis = bootstrap.redis_client(settings)

    def session(self, role: str) -> requests.Session:
        client = requests.Session()
        account = ACCOUNTS[role]
        reply = client.post(self.url + "/login", data={"username": account.username, "password": account.password},
                            allow_redirects=False, timeout=20)  # fmt: skip
        assert reply.status_code == 303, reply.text
        return client

    def letter(self, stream: str, fields: dict[str, str], code: str = "missing") -> str:
        about = {"dlq_code": code, "dlq_reason": "<script>alert(1)</script> refused", "dlq_stream": stream,
                 "dlq_id": "1764000000000-0", "dlq_at_ms": str(T)}  # fmt: skip
        return self.redis.xadd(self.settings.stream_deadletter, fields | about).decode()

    def audit(self, action: str) -> list[tuple]:
        with bootstrap.db_connection(self.settings) as conn:
            return conn.execute("SELECT actor, role, outcome, address, details->>'replayed' FROM audit_log"
                                " WHERE action = %s ORDER BY id", (action,)).fetchall()  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    with isolated(Settings(), http_port=free_port(), signin_attempts_per_minute=10_000) as settings:
        add_accounts(settings)
        server = Served(settings, tmp_path_factory.mktemp("deadletters") / "gunicorn.log", workers=1)
        server.start()
        try:
            yield Site(settings, server)
        finally:
            server.stop()


def post(client: requests.Session, url: str, body: dict) -> requests.Response:
    return client.post(url + "/_dash-update-component", json=body, timeout=30)


def replay_body(site: Site, client: requests.Session, code: object = None, since: object = None) -> dict:
    return DashCallbacks(client, site.url).body("pipeline-dlq-message.children", {
        "pipeline-dlq-replay.n_clicks": 1, "pipeline-dlq-code.value": code, "pipeline-dlq-since.value": since,
        "pipeline-dlq-changed.data": 0}, "pipeline-dlq-replay.n_clicks")  # fmt: skip


def inspect_body(site: Site, client: requests.Session, letter_id: object) -> dict:
    return DashCallbacks(client, site.url).body("pipeline-dlq-letter.children", {"pipeline-dlq-pick.value": letter_id},
                                                "pipeline-dlq-pick.value")  # fmt: skip


def test_only_an_admin_replays_and_the_replay_is_audited_with_who_what_and_where(site):
    s = site.settings
    site.letter(s.stream_iot, events.reading("aq-1", ts=T))
    site.letter(s.stream_iot, events.reading("aq-2", ts=T), code="not_finite")
    for role in ("viewer", "operator"):
        client = site.session(role)
        reply = post(client, site.url, replay_body(site, client, "missing"))
        assert reply.status_code == 403, (role, reply.status_code, reply.text[:200])
    assert (site.redis.xlen(s.stream_deadletter), site.redis.xlen(s.stream_iot)) == (2, 0)  # nothing changed
    denied = [row for row in site.audit("access")]
    assert {(actor, outcome) for actor, _, outcome, _, _ in denied} >= {
        (ACCOUNTS["viewer"].username, "denied"), (ACCOUNTS["operator"].username, "denied")}  # fmt: skip

    admin = site.session("admin")
    bad_since = post(admin, site.url, replay_body(site, admin, "missing", "last tuesday"))
    assert bad_since.status_code == 200 and "duration" in bad_since.text
    reply = post(admin, site.url, replay_body(site, admin, "missing", "3650d"))
    assert reply.status_code == 200 and "replayed 1 of 2 letters examined" in reply.text, reply.text[:300]
    assert (site.redis.xlen(s.stream_deadletter), site.redis.xlen(s.stream_iot)) == (1, 1)
    assert site.audit("deadletter.replay") == [(ACCOUNTS["admin"].username, "admin", "ok", "127.0.0.1", "1")]


def test_the_inspector_shows_a_letter_as_bounded_text_and_withholds_complaint_text(site):
    s = site.settings
    complaint = events.complaint("SZ-9", "open", T) | {"description": WORDS}
    letter_id = site.letter(s.stream_complaints, complaint)
    huge_id = site.letter(s.stream_iot, events.reading("aq-3", ts=T) | {"note": "<b>" + "x" * 20_000})
    viewer, operator = site.session("viewer"), site.session("operator")
    seen = post(viewer, site.url, inspect_body(site, viewer, letter_id))
    assert seen.status_code == 200 and "SZ-9" in seen.text and WORDS not in seen.text and "withheld" in seen.text
    assert (
        "\\u003cscript\\u003e" in seen.text or "<script>" in seen.json()["response"]["pipeline-dlq-letter"]["children"]
    )  # the reason as text in a <pre>: never markup
    told = post(operator, site.url, inspect_body(site, operator, letter_id))
    assert WORDS in told.text
    big = post(viewer, site.url, inspect_body(site, viewer, huge_id)).json()["response"]["pipeline-dlq-letter"]
    assert len(big["children"]) < 2000 and "bytes in all" in big["children"]
    for hostile in ("../../etc/passwd", "1" * 10_000, {"id": 1}, ["1-0"], 7):
        reply = post(viewer, site.url, inspect_body(site, viewer, hostile))
        assert reply.status_code in (200, 400), (hostile, reply.status_code)
        assert "Traceback" not in reply.text
