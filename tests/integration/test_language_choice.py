"""A person's language through HTTP, as a crafted client would ask: stored only for the person signed in, only a
language the IOC speaks, audited; a display cannot store one; `?lang=` is checked; a display token's language
reaches its wall. Real gunicorn, Redis and TimescaleDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

import bootstrap
from auth.principal import cli_principal
from settings import Settings
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port, signed_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[Settings, str]]:
    with isolated(Settings(), http_port=free_port(), signin_attempts_per_minute=10_000,
                  default_language="zh-CN") as settings:  # fmt: skip
        add_accounts(settings)
        server = Served(settings, tmp_path_factory.mktemp("languages") / "gunicorn.log", workers=1)
        server.start()
        try:
            yield settings, server.url
        finally:
            server.stop()


def _stored(settings: Settings, role: str) -> tuple[str | None, int]:
    """The account's language and how many `user.language` records the audit trail holds for it."""
    name = ACCOUNTS[role].username
    with bootstrap.db_connection(settings) as conn:
        language = conn.execute("SELECT language FROM auth_users WHERE username = %s", (name,)).fetchone()[0]
        records = conn.execute("SELECT count(*) FROM audit_log WHERE actor = %s AND action = 'user.language'",
                               (name,)).fetchone()[0]  # fmt: skip
    return language, records


def test_the_default_then_the_persons_choice_then_the_address_bar(site):
    settings, url = site
    client = signed_in(url, "viewer")
    assert '<html lang="zh-CN">' in client.get(url + "/", timeout=20).text  # IOC_DEFAULT_LANGUAGE
    reply = client.post(url + "/language", data={"language": "th"}, headers={"Referer": url + "/map?lang=en"},
                        allow_redirects=False, timeout=20)  # fmt: skip
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/map")  # back, without ?lang=
    assert _stored(settings, "viewer") == ("th", 1)
    assert '<html lang="th">' in client.get(url + "/", timeout=20).text
    assert '<html lang="en">' in client.get(url + "/?lang=en", timeout=20).text
    assert '<html lang="en">' in client.get(url + "/history", timeout=20).text  # the override stays this session
    client.post(url + "/language", data={"language": ""}, timeout=20)  # back to the city's default; cookie cleared
    assert _stored(settings, "viewer") == (None, 2)
    assert '<html lang="zh-CN">' in client.get(url + "/", timeout=20).text


def test_hostile_choices_are_refused_with_a_reason_and_change_nothing(site):
    settings, url = site
    client = signed_in(url, "operator")
    before = _stored(settings, "operator")
    for bad in ("klingon", "x" * 5000, "zh-CN'; DROP TABLE auth_users; --"):
        reply = client.post(url + "/language", data={"language": bad}, timeout=20)
        assert reply.status_code == 400 and reply.json()["message"]
    assert client.get(url + "/?lang=klingon", timeout=20).status_code == 400
    assert "en, zh-CN, th" in client.get(url + "/?lang=klingon", timeout=20).json()["message"]
    assert requests.post(url + "/language", data={"language": "th"}, allow_redirects=False,
                         timeout=20).status_code in (401, 303)  # fmt: skip  # nobody signed in
    crossed = client.post(url + "/language", data={"language": "th"}, headers={"Origin": "https://evil.example"},
                          timeout=20)  # fmt: skip
    assert crossed.status_code == 403
    assert _stored(settings, "operator") == before


def test_a_display_token_brings_its_language_and_a_display_cannot_store_one(site):
    settings, url = site
    commands = bootstrap.access_commands(settings, lambda: bootstrap.db_connection(settings))
    issued = commands.issue_display(cli_principal("tests"), "lobby-th", ["overview"], 30, "th")
    wall = requests.Session()
    assert wall.get(f"{url}/wall?token={issued.secret}", timeout=20).status_code == 200
    assert '<html lang="th">' in wall.get(url + "/wall", timeout=20).text
    assert wall.post(url + "/language", data={"language": "en"}, timeout=20).status_code == 403
    with pytest.raises(Exception, match="language is one of"):
        commands.issue_display(cli_principal("tests"), "lobby-xx", ["overview"], 30, "xx")
