"""The pure rules of who may do what: roles, lockout, addresses behind proxies, sessions, passwords, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.commands import ActionLimits, check_matchers, parse_matchers
from auth import passwords
from auth.addresses import client_address, is_trusted, parse_networks
from auth.audit import AuditQuery, csv_text
from auth.command import Refused
from auth.lockout import FailureCount, LockoutPolicy
from auth.roles import GRANTS, Permission, Role, may
from auth.sessions import Refusal, clean_username, judge_session
from auth.tokens import token_digest
from auth.web import safe_next
from layouts.wall import wall_config

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_each_role_holds_what_the_roles_table_says():
    assert may(Role.VIEWER, Permission.VIEW_DASHBOARDS) and not may(Role.VIEWER, Permission.ACT_ON_ALERTS)
    assert not may(Role.VIEWER, Permission.READ_COMPLAINT_TEXT)
    assert may(Role.OPERATOR, Permission.SILENCE_ALERTS) and may(Role.OPERATOR, Permission.READ_COMPLAINT_TEXT)
    assert not may(Role.OPERATOR, Permission.MANAGE_USERS) and not may(Role.OPERATOR, Permission.READ_AUDIT)
    assert GRANTS[Role.ADMIN] == frozenset(Permission)
    assert GRANTS[Role.DISPLAY] == {Permission.WATCH_WALL}
    assert not may(None, Permission.WATCH_WALL) and not may("root", Permission.WATCH_WALL)
    # Each role holds everything the one below it holds.
    assert GRANTS[Role.DISPLAY] < GRANTS[Role.VIEWER] < GRANTS[Role.OPERATOR] < GRANTS[Role.ADMIN]


def test_an_account_locks_after_repeated_failures_and_unlocks_after_the_lock():
    policy = LockoutPolicy(max_failures=3, lock_for=timedelta(minutes=15))
    count = FailureCount(0, None)
    for _ in range(2):
        count = count.after_failure(policy, NOW)
        assert not count.locked(NOW)
    count = count.after_failure(policy, NOW)
    assert count.locked(NOW) and count.locked(NOW + timedelta(minutes=14, seconds=59))
    assert not count.locked(NOW + timedelta(minutes=15))
    later = count.after_failure(policy, NOW + timedelta(minutes=16))  # a fresh count after the lock ran out
    assert later == FailureCount(1, None)


def test_the_client_address_is_believed_from_trusted_proxies_only():
    proxies = parse_networks(["10.0.0.5", "10.1.0.0/16"])
    assert is_trusted("10.1.200.3", proxies) and not is_trusted("10.2.0.1", proxies) and not is_trusted("x", proxies)
    assert client_address("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9"  # not a proxy: header ignored
    assert client_address("10.0.0.5", "198.51.100.1, 10.1.0.7", proxies) == "198.51.100.1"
    assert client_address("10.0.0.5", "garbage", proxies) == "10.0.0.5"
    with pytest.raises(ValueError, match="not an IP address"):
        parse_networks(["proxy.example"])


def test_after_sign_in_only_paths_on_this_site_are_followed():
    assert safe_next("/alerts?alert=3") == "/alerts?alert=3"
    for hostile in ("//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "",
                    "/a\nLocation: x"):  # fmt: skip
        assert safe_next(hostile) == "/"


def test_user_names_are_lower_case_and_plain():
    assert clean_username("  Chen.Jing@City.GOV ") == "chen.jing@city.gov"
    for bad in ("", "a b", "<img>", "-lead", "x" * 129, None):
        assert clean_username(bad) is None


def session_row(**changes):
    row = {"session_id": 1, "expires_at": NOW + timedelta(hours=1), "ended_at": None, "user_id": 7,
           "username": "chen", "full_name": "Chen Jing", "role": "operator", "disabled_at": None, "display_id": None,
           "display_name": None, "playlist": None, "interval_s": None, "revoked_at": None}  # fmt: skip
    return {**row, **changes}


def test_a_session_lets_in_until_it_ends_expires_or_its_account_or_display_is_stopped():
    check = judge_session(session_row(), NOW, "10.0.0.9")
    assert check.principal.name == "chen" and check.principal.role is Role.OPERATOR
    assert check.principal.address == "10.0.0.9"
    assert judge_session(None, NOW, "").refusal is Refusal.SIGNED_OUT
    assert judge_session(session_row(ended_at=NOW), NOW, "").refusal is Refusal.SIGNED_OUT
    assert judge_session(session_row(expires_at=NOW), NOW, "").refusal is Refusal.SIGNED_OUT
    assert judge_session(session_row(disabled_at=NOW), NOW, "").refusal is Refusal.DISABLED
    display = session_row(user_id=None, display_id=3, display_name="lobby", playlist=["map"], interval_s=20)
    wall = judge_session(display, NOW, "").principal
    assert wall.role is Role.DISPLAY and wall.wall.playlist == ("map",) and wall.wall.interval_s == 20
    assert judge_session({**display, "revoked_at": NOW, "ended_at": NOW}, NOW, "").refusal is Refusal.DISPLAY_REVOKED


def test_passwords_are_hashed_memory_hard_and_checked():
    stored = passwords.hash_password("a long enough password")
    assert stored.startswith("$argon2id$") and "m=65536" in stored
    assert passwords.verify_password(stored, "a long enough password")
    assert not passwords.verify_password(stored, "a long enough passwore")
    assert not passwords.verify_password(None, "anything") and not passwords.verify_password("not a hash", "x")
    with pytest.raises(passwords.WeakPassword):
        passwords.check_new_password("short", "chen")
    with pytest.raises(passwords.WeakPassword, match="user name"):
        passwords.check_new_password("chen-the-officer-2026", "chen")
    with pytest.raises(passwords.WeakPassword, match="different"):
        passwords.check_new_password("aaaaaaaaaaaaaaaa", "chen")


def test_tokens_that_cannot_be_ours_are_refused_before_hashing():
    assert token_digest("x" * 200) is None and token_digest("") is None and token_digest("välja") is None
    assert len(token_digest("iocd_abc")) == 32


def test_silence_matchers_are_bounded():
    limits = ActionLimits(matchers_max=2, matcher_value_max_chars=10)
    assert parse_matchers("team=water, subject=wl-0042") == {"team": "water", "subject": "wl-0042"}
    assert check_matchers("team=water", limits) == {"team": "water"}
    refusals = [("", "at least one"), ("a=1,b=2,c=3", "at most 2"), ("Team=x", "not a label name"),
                ("team=" + "x" * 11, "1 to 10"), ("team", "not name=value"), ({"team": 5}, "1 to 10")]
    for bad, said in refusals:
        with pytest.raises(Refused, match=said):
            check_matchers(bad, limits)


def test_the_audit_export_cannot_smuggle_a_spreadsheet_formula():
    rows = [{"at": NOW, "actor": "=HYPERLINK(\"http://x\")", "role": "viewer", "action": "signin",
             "target": "user:+1", "outcome": "failed", "address": "10.0.0.1", "details": {"reason": "@x"}}]  # fmt: skip
    text = "".join(csv_text(rows))
    assert text.splitlines()[0] == "at,actor,role,action,target,outcome,address,details"
    assert "'=HYPERLINK" in text and ",user:+1," in text
    where, params = AuditQuery(actor="chen", action="alert.").where()
    assert where == " WHERE actor = %s AND starts_with(action, %s)" and params == ["chen", "alert."]


def test_the_wall_takes_no_non_finite_or_huge_interval():
    for raw in ("inf", "nan", "1e300", "-5", "abc"):
        assert 5_000 <= wall_config({"interval": raw}, ["overview"], 30)["interval_ms"] <= 3_600_000
