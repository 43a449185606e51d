"""Sign-in, sessions, display tokens and the command paths against real TimescaleDB and Redis, with the clocks
injected: a lockout's end, a rate-limit window and a display's re-check happen without waiting for them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import bootstrap
from alerts.commands import ActionLimits, AlertCommands
from alerts.evaluate import Condition
from auth.command import Refused
from auth.principal import Principal, cli_principal
from auth.ratelimit import AttemptLimiter
from auth.roles import Role
from auth.service import AccessService
from auth.sessions import Refusal
from tests.integration.conftest import count

pytestmark = pytest.mark.integration
ADMIN = cli_principal("tests")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def conn_factory(test_settings):
    def connect():
        conn = bootstrap.db_connection(test_settings)
        conn.autocommit = True
        return conn

    return connect


@pytest.fixture
def access(test_settings, conn_factory, rds, clock) -> AccessService:
    settings = test_settings.model_copy(update={"signin_max_failures": 2, "signin_attempts_per_minute": 4})
    limiter = AttemptLimiter(rds, f"{settings.consumer_group}:signin", 4, clock=lambda: clock.mono)
    return AccessService(conn_factory, limiter, bootstrap.access_policy(settings), now=lambda: clock.now,
                         monotonic=lambda: clock.mono)  # fmt: skip


@pytest.fixture
def commands(test_settings, conn_factory):
    return bootstrap.access_commands(test_settings, conn_factory)


def test_a_lock_ends_after_its_time_and_the_right_password_works_again(access, commands, clock, db):
    commands.add_user(ADMIN, "duty.one", "operator", "", "duty one password")
    assert access.sign_in("duty.one", "nope", "10.0.0.1").token is None
    assert access.sign_in("duty.one", "nope again", "10.0.0.2").token is None  # the second in a row locks
    assert access.sign_in("duty.one", "duty one password", "10.0.0.3").token is None
    clock.advance(15 * 60)  # IOC_SIGNIN_LOCKOUT_MINUTES, default 15
    signed_in = access.sign_in("DUTY.ONE", "duty one password", "10.0.0.3")
    assert signed_in.token and signed_in.principal.role is Role.OPERATOR
    assert count(db, "SELECT failed_signins FROM auth_users WHERE username = 'duty.one'") == 0


def test_an_address_is_limited_per_minute_whatever_the_account(access, clock):
    refusals = [access.sign_in(f"nobody{i}", "x", "10.9.9.9") for i in range(6)]
    assert [r.rate_limited for r in refusals] == [False] * 4 + [True] * 2
    assert not access.sign_in("nobody", "x", "10.9.9.8").rate_limited  # another address has its own count
    clock.advance(60)
    assert not access.sign_in("nobody", "x", "10.9.9.9").rate_limited  # a new minute


def test_an_unknown_name_costs_a_hash_and_is_recorded(access, db):
    assert access.sign_in("<script>", "x", "10.0.0.1").token is None
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = 'signin' AND outcome = 'failed'"
                     " AND details->>'reason' = 'unknown_user'") == 1  # fmt: skip


def test_a_display_is_rechecked_after_its_interval_and_a_person_on_every_request(access, commands, clock):
    issued = commands.issue_display(ADMIN, "hall", ["map"], 15)
    wall = access.exchange_display_token(issued.secret, "10.0.0.50")
    assert access.check_session(wall.token, "10.0.0.50").principal.wall.playlist == ("map",)
    commands.add_user(ADMIN, "duty.two", "viewer", "", "duty two password")
    person = access.sign_in("duty.two", "duty two password", "10.0.0.51")
    commands.revoke_display(ADMIN, "hall")
    commands.disable(ADMIN, "duty.two")
    assert access.check_session(person.token, "10.0.0.51").refusal is Refusal.SIGNED_OUT  # at once
    assert access.check_session(wall.token, "10.0.0.50").principal is not None  # the display's cached check
    clock.advance(30)  # IOC_DISPLAY_RECHECK_S
    assert access.check_session(wall.token, "10.0.0.50").refusal is Refusal.DISPLAY_REVOKED


def test_the_last_admin_can_be_neither_demoted_nor_disabled(commands):
    commands.add_user(ADMIN, "root.admin", "admin", "", "root admin password")
    with pytest.raises(Refused, match="last enabled admin"):
        commands.set_role(ADMIN, "root.admin", "viewer")
    with pytest.raises(Refused, match="last enabled admin"):
        commands.disable(ADMIN, "root.admin")
    commands.add_user(ADMIN, "second.admin", "admin", "", "second admin password")
    assert commands.disable(ADMIN, "root.admin")["disabled_at"] is not None


def test_only_admins_manage_accounts(commands, db):
    commands.add_user(ADMIN, "op.three", "operator", "", "op three password")
    operator = Principal("op.three", Role.OPERATOR, "10.0.0.7")
    with pytest.raises(Refused, match="may not add accounts"):
        commands.add_user(operator, "mallory", "admin", "", "mallory password 1")
    assert count(db, "SELECT count(*) FROM auth_users WHERE username = 'mallory'") == 0
    assert count(db, "SELECT count(*) FROM audit_log WHERE actor = 'op.three' AND action = 'user.add'"
                     " AND outcome = 'denied' AND address = '10.0.0.7'") == 1  # fmt: skip


def test_alert_commands_check_role_bounds_and_assignee(test_settings, conn_factory, commands, db):
    store = bootstrap.alert_store(test_settings, db)
    store.apply([Condition("pm25_high", "aq-1", True, 400.0, 150.0, "warning", "x", {}, datetime.now(UTC))])
    alert_id = count(db, "SELECT id FROM alerts")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    alerts = AlertCommands(conn_factory, lambda conn: bootstrap.alert_store(test_settings, conn),
                           ActionLimits(note_max_chars=20, matchers_max=2), now=lambda: now)  # fmt: skip
    commands.add_user(ADMIN, "op.four", "operator", "", "op four password")
    officer = Principal("op.four", Role.OPERATOR, "10.0.0.8")
    viewer = Principal("vi.four", Role.VIEWER, "10.0.0.9")
    with pytest.raises(Refused, match="may not acknowledge"):
        alerts.perform(viewer, "acknowledge", {"alert_id": alert_id})
    with pytest.raises(Refused, match="at most 20 characters"):
        alerts.perform(officer, "note", {"alert_id": alert_id, "note": "x" * 21})
    with pytest.raises(Refused, match="enabled operator or admin"):
        alerts.perform(officer, "assign", {"alert_id": alert_id, "assignee": "someone.else"})
    with pytest.raises(Refused, match="at most 2 matchers"):
        alerts.perform(officer, "silence", {"matchers": "a=1,b=2,c=3", "hours": 1, "comment": "x"})
    with pytest.raises(Refused, match="carries a comment"):
        alerts.perform(officer, "silence", {"matchers": "team=water", "hours": 1, "comment": "  "})
    with pytest.raises(Refused, match="Unknown action"):
        alerts.perform(officer, "delete_everything", {})
    done = alerts.perform(officer, "silence", {"matchers": "team=water", "hours": 2, "comment": "works",
                                               "starts_in_minutes": 30})  # fmt: skip
    starts, ends, by = db.execute("SELECT starts_at, ends_at, created_by FROM alert_silences WHERE id = %s",
                                  (done.silence_id,)).fetchone()  # fmt: skip
    assert (starts, ends, by) == (now + timedelta(minutes=30), now + timedelta(minutes=150), "op.four")
    assigned = alerts.perform(officer, "assign", {"alert_id": alert_id, "assignee": "op.four"})
    assert assigned.alert["assignee"] == "op.four"
    outcomes = db.execute("SELECT action, outcome FROM audit_log WHERE actor IN ('op.four', 'vi.four')"
                          " ORDER BY id").fetchall()  # fmt: skip
    assert outcomes == [("alert.acknowledge", "denied"), ("alert.note", "failed"), ("alert.assign", "failed"),
                        ("alert.silence", "failed"), ("alert.silence", "failed"), ("alert.silence", "ok"),
                        ("alert.assign", "ok")]  # fmt: skip


def test_through_a_database_outage_a_wall_stays_on_and_a_person_is_not_let_in_blind(own_database, rds, clock):
    from tests.integration.conftest import refuse_connections

    settings, admin_conn, name = own_database

    def connect():
        conn = bootstrap.db_connection(settings)
        conn.autocommit = True
        return conn

    limiter = AttemptLimiter(rds, f"{settings.consumer_group}:signin", 100, clock=lambda: clock.mono)
    access = AccessService(connect, limiter, bootstrap.access_policy(settings), now=lambda: clock.now,
                           monotonic=lambda: clock.mono)  # fmt: skip
    commands = bootstrap.access_commands(settings, connect)
    wall = access.exchange_display_token(commands.issue_display(ADMIN, "hall", ["map"], 15).secret, "10.0.0.60")
    commands.add_user(ADMIN, "duty.five", "viewer", "", "duty five password")
    person = access.sign_in("duty.five", "duty five password", "10.0.0.61")
    assert access.check_session(wall.token, "10.0.0.60").principal  # the wall polls, and is let in
    refuse_connections(admin_conn, name)
    clock.advance(60)  # past the display's re-check: the database is asked, and does not answer
    assert access.check_session(wall.token, "10.0.0.60").principal.name == "display:hall"
    with pytest.raises(psycopg.OperationalError):
        access.check_session(person.token, "10.0.0.61")  # the gate answers 503: nobody is let in unchecked


def test_a_process_rechecks_all_its_walls_in_one_query(test_settings, conn_factory, rds, clock, commands):
    opened = []

    def counting_connect():
        opened.append(1)
        return conn_factory()

    limiter = AttemptLimiter(rds, f"{test_settings.consumer_group}:signin", 100, clock=lambda: clock.mono)
    access = AccessService(counting_connect, limiter, bootstrap.access_policy(test_settings), now=lambda: clock.now,
                           monotonic=lambda: clock.mono)  # fmt: skip
    walls = []
    for name in ("hall-a", "hall-b", "hall-c"):
        walls.append(access.exchange_display_token(commands.issue_display(ADMIN, name, ["map"], 15).secret, "x").token)
        assert access.check_session(walls[-1], "10.0.1.1").principal is not None
    commands.revoke_display(ADMIN, "hall-b")
    clock.advance(30)
    opened.clear()
    checks = [access.check_session(token, "10.0.1.1") for token in walls]
    assert [c.refusal for c in checks] == [None, Refusal.DISPLAY_REVOKED, None]
    assert len(opened) == 1  # three walls, one query
