"""`ioc apikeys` against a real database: issue prints the key once, list never shows it, revoke stops it; each
change is in the audit trail as the shell's admin, and bad arguments are refused without a change."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from api.keys import key_by_digest, key_digest
from cli.main import main as ioc
from settings import Settings
from tests.served import child_env

pytestmark = pytest.mark.integration


def test_issue_list_and_revoke_from_the_shell(test_settings: Settings, db: psycopg.Connection):
    env = child_env(test_settings)
    run = CliRunner().invoke
    issued = run(ioc, ["apikeys", "issue", "bus-app", "--scopes", "kpis,sensors", "--per-minute", "30"], env=env,
                 catch_exceptions=False)  # fmt: skip
    assert issued.exit_code == 0, issued.output
    secret = issued.output.split()[0]
    assert secret.startswith("ioca_") and len(secret) == 48
    key = key_by_digest(db, key_digest(secret))
    assert key["scopes"] == ["kpis", "sensors"] and key["requests_per_minute"] == 30
    listed = run(ioc, ["apikeys", "list"], env=env, catch_exceptions=False)
    assert "bus-app" in listed.output and "kpis,sensors" in listed.output and "30/min" in listed.output
    assert secret not in listed.output
    refused = run(ioc, ["apikeys", "issue", "other", "--scopes", "everything"], env=env, catch_exceptions=False)
    assert refused.exit_code == 2 and "Scopes are one or more of" in refused.output
    again = run(ioc, ["apikeys", "issue", "bus-app", "--scopes", "kpis"], env=env, catch_exceptions=False)
    assert again.exit_code == 2 and "already an API key named bus-app" in again.output
    revoked = run(ioc, ["apikeys", "revoke", "bus-app"], env=env, catch_exceptions=False)
    assert revoked.exit_code == 0 and key_by_digest(db, key_digest(secret))["revoked_at"] is not None
    twice = run(ioc, ["apikeys", "revoke", "bus-app"], env=env, catch_exceptions=False)
    assert twice.exit_code == 2 and "already revoked" in twice.output
    trail = db.execute("SELECT action, outcome FROM audit_log WHERE actor LIKE 'cli:%%' ORDER BY id").fetchall()
    assert trail == [("apikey.issue", "ok"), ("apikey.issue", "failed"), ("apikey.issue", "failed"),
                     ("apikey.revoke", "ok"), ("apikey.revoke", "failed")]  # fmt: skip
    assert db.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1
