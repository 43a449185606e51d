"""Dead letters replayed after a fix, against real Redis and TimescaleDB, through the real ingest worker: stored
exactly once (even when a letter is replayed twice), still-bad entries back with their reason and never in a loop,
hostile letters refused and left alone, every replay in the audit trail; and `ioc deadletter` itself."""

from __future__ import annotations

import getpass
import threading
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from click.testing import CliRunner

import bootstrap
from auth.command import Refused
from auth.principal import Principal, cli_principal
from auth.roles import Role
from cli.main import main as ioc
from streams.replay import Selection
from tests.integration import events
from tests.integration.conftest import count
from tests.integration.processes import settings_env

T = 1_764_000_000_000  # a fixed past time, so the tests do not depend on the clock
STRICT = {"ingest_new_devices_per_min": 1, "ingest_new_sites_per_min": 1, "ingest_new_requests_per_min": 1}
RELAXED = {"ingest_new_devices_per_min": 5000, "ingest_new_sites_per_min": 50, "ingest_new_requests_per_min": 1000}


def drain(worker) -> None:
    while worker.step():
        pass


def ingest(settings, **caps: int) -> None:
    worker = bootstrap.ingest_worker(settings.model_copy(update=caps), "w")
    worker.ensure_groups()
    drain(worker)
    worker.close()


def commands(settings):
    return bootstrap.dead_letter_commands(settings, bootstrap.redis_client(settings),
                                          lambda: bootstrap.db_connection(settings))  # fmt: skip


def rows(db) -> tuple[int, int, int]:
    return (count(db, "SELECT count(*) FROM sensor_readings"), count(db, "SELECT count(*) FROM complaint_events"),
            count(db, "SELECT count(*) FROM datacenter_samples"))  # fmt: skip


def test_entries_refused_for_a_rule_later_relaxed_are_replayed_and_stored_exactly_once(rds, db, test_settings):
    s = test_settings
    iot_ids = events.fill(
        rds, s.stream_iot, [events.reading("aq-1", ts=T), events.reading("aq-2", ts=T), events.reading("aq-3")]
    )  # aq-3 without ts: timed by its entry id
    events.fill(rds, s.stream_complaints, [events.complaint("SZ-1", "open", T), events.complaint("SZ-2", "open", T)])
    events.fill(rds, s.stream_datacenter, [events.sample("dc-a", 1200, 1000, T), events.sample("dc-b", 1300, 1000, T)])
    ingest(s, **STRICT)  # one new device, site and request a minute: the rest is refused as too_many_new
    assert rows(db) == (1, 1, 1)
    letters = rds.xrange(s.stream_deadletter)
    assert [f[b"dlq_code"] for _, f in letters] == [b"too_many_new"] * 4

    report = commands(s).replay(cli_principal("tests"), Selection(code="too_many_new"))  # after the fix:
    assert (report.replayed, report.refused_count, rds.xlen(s.stream_deadletter)) == (4, 0, 0)
    ingest(s, **RELAXED)  # the caps raised
    assert rows(db) == (3, 2, 2)
    first_time = db.execute("SELECT source_id, (extract(epoch FROM ts) * 1000)::bigint FROM sensor_readings"
                            " WHERE device_id = 'aq-3'").fetchone()  # fmt: skip
    aq3 = iot_ids[2].decode()
    assert first_time == (aq3, int(aq3.split("-")[0]))  # stored under its first id, at its first arrival
    audit = db.execute("SELECT actor, action, target, outcome, details->>'replayed' FROM audit_log").fetchall()
    assert audit == [("cli:tests", "deadletter.replay", "deadletters:too_many_new", "ok", "4")]

    # The same letters again, as if the deletes had been lost after the re-adds: no second row of any kind.
    for _, fields in letters:
        rds.xadd(s.stream_deadletter, fields)
    assert commands(s).replay(cli_principal("tests"), Selection()).replayed == 4
    before = int(rds.hget(f"{s.consumer_group}:stats", "duplicates") or 0)
    ingest(s, **RELAXED)
    assert rows(db) == (3, 2, 2)
    assert int(rds.hget(f"{s.consumer_group}:stats", "duplicates")) - before == 4
    assert count(db, "SELECT events FROM complaints WHERE request_id = 'SZ-2'") == 1


def test_a_still_bad_entry_comes_back_with_its_reason_and_a_replay_never_takes_its_own_returns(rds, db, test_settings):
    s = test_settings
    bad = events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", value="NaN", ts=T) for i in range(60)])
    ingest(s)
    assert rds.xlen(s.stream_deadletter) == 60
    box = commands(s).letters
    box.batch = 7  # many rounds, so a worker re-refusing meanwhile would be met by the replay if it looked
    worker = bootstrap.ingest_worker(s, "w-concurrent")
    worker.ensure_groups()
    stop = threading.Event()
    thread = threading.Thread(target=lambda: worker.run(stop.is_set))
    thread.start()
    try:
        report = commands(s).replay(cli_principal("tests"), Selection(code="not_finite"))
    finally:
        stop.set()
        thread.join(timeout=60)
    ingest(s)
    assert (report.examined, report.replayed) == (60, 60)  # nothing it put back came round to it again
    letters = rds.xrange(s.stream_deadletter)
    assert len(letters) == 60 and count(db, "SELECT count(*) FROM sensor_readings") == 0
    assert {f[b"dlq_code"] for _, f in letters} == {b"not_finite"}
    assert {f[b"dlq_replays"] for _, f in letters} == {b"1"}
    assert {f[b"dlq_replay_of"] for _, f in letters} == set(bad)
    assert all(b"must be finite" in f[b"dlq_reason"] for _, f in letters)
    # A dry run counts and changes nothing; the next real replay is the second.
    on_iot = rds.xlen(s.stream_iot)
    dry = commands(s).replay(cli_principal("tests"), Selection(), dry_run=True)
    assert (dry.replayed, rds.xlen(s.stream_deadletter), rds.xlen(s.stream_iot)) == (60, 60, on_iot)


def test_hostile_letters_are_refused_with_the_reason_and_left_where_they_are(rds, db, test_settings):
    s = test_settings
    good = {**events.reading("aq-1", ts=T), "dlq_code": "missing", "dlq_reason": "x", "dlq_stream": s.stream_iot,
            "dlq_id": "1-0", "dlq_at_ms": "1"}  # fmt: skip
    hostile = {
        "elsewhere": good | {"dlq_stream": "someone:else"},
        "itself": good | {"dlq_stream": s.stream_deadletter},
        "no id": {k: v for k, v in good.items() if k != "dlq_id"},
        "bad id": good | {"dlq_id": "1-0 OR 1"},
        "huge": good | {"value": "9" * 100_000},
        "cut": good | {"dlq_truncated": "1"},
        "forged first id": good | {"dlq_replay_of": "not an id"},
    }
    for fields in hostile.values():
        rds.xadd(s.stream_deadletter, fields)
    report = commands(s).replay(cli_principal("tests"), Selection())
    assert (report.replayed, report.refused_count) == (0, len(hostile))
    reasons = [why for _, why in report.refused]
    for said in (
        "not one of the city streams",
        "no dlq_id",
        "not a stream entry id",
        "bytes; the IOC writes at most",
        "does not hold the whole entry",
        "dlq_replay_of",
    ):
        assert any(said in why for why in reasons), (said, reasons)
    assert rds.xlen(s.stream_deadletter) == len(hostile)
    assert sum(rds.xlen(stream) for stream in s.streams.values()) == 0
    assert commands(s).letters.show("1-0 OR 1") is None and commands(s).letters.show("") is None


def test_only_a_role_allowed_to_replay_may_and_a_refusal_is_recorded(rds, db, test_settings):
    s = test_settings
    rds.xadd(s.stream_deadletter, {**events.reading("aq-1", ts=T), "dlq_code": "missing", "dlq_reason": "x",
                                   "dlq_stream": s.stream_iot, "dlq_id": "1-0", "dlq_at_ms": "1"})  # fmt: skip
    for role in (Role.VIEWER, Role.OPERATOR, Role.DISPLAY):
        try:
            commands(s).replay(Principal(f"someone-{role}", role, "192.0.2.7"), Selection())
            raise AssertionError(f"{role} replayed")
        except Refused as refused:
            assert "may not replay dead letters" in str(refused)
    assert rds.xlen(s.stream_deadletter) == 1 and rds.xlen(s.stream_iot) == 0
    assert count(db, "SELECT count(*) FROM audit_log WHERE outcome = 'denied' AND address = '192.0.2.7'") == 3


def test_the_deadletter_command_lists_shows_and_replays_as_the_login(rds, db, test_settings):
    s = test_settings
    events.fill(rds, s.stream_iot, [events.reading("aq-1", value="NaN", ts=T) | {"note": "\x1b[2Jcleared"},
                                    events.reading("aq-2", ts=T)])  # fmt: skip
    rds.xadd(s.stream_iot, {**events.reading("aq-3", ts=T), "kind": "Bad Kind"})
    ingest(s, **STRICT)
    env = {k: v for k, v in settings_env(s).items() if v != "" or not k.startswith("IOC_")}
    run = CliRunner().invoke
    listed = run(ioc, ["deadletter", "list"], env=env, catch_exceptions=False)
    assert listed.exit_code == 0 and "not_finite" in listed.output and "bad_value" in listed.output, listed.output
    assert len(listed.output.strip().splitlines()) == 2 + 1  # two letters and the count (stderr is mixed in)
    letter_id = rds.xrange(s.stream_deadletter)[0][0].decode()
    shown = run(ioc, ["deadletter", "show", letter_id], env=env, catch_exceptions=False)
    assert "must be finite" in shown.output and "value = NaN" in shown.output, shown.output
    assert "\x1b" not in shown.output and "note = \\x1b[2Jcleared" in shown.output  # no escapes reach a terminal
    only = run(ioc, ["deadletter", "list", "--code", "bad_value", "--since", "1h"], env=env, catch_exceptions=False)
    assert "bad_value" in only.output and "not_finite" not in only.output
    dry = run(ioc, ["deadletter", "replay", "--dry-run"], env=env, catch_exceptions=False)
    assert "would replay 2 of 2" in dry.output and rds.xlen(s.stream_deadletter) == 2
    done = run(ioc, ["deadletter", "replay", "--code", "not_finite"], env=env, catch_exceptions=False)
    assert "replayed 1 of 2" in done.output, done.output
    assert db.execute("SELECT actor, details->>'code' FROM audit_log").fetchall() == [
        (f"cli:{getpass.getuser()}", "not_finite")]  # fmt: skip
    bad = run(ioc, ["deadletter", "replay", "--since", "last tuesday"], env=env)
    assert bad.exit_code == 2 and "--since" in bad.output


def test_a_re_add_redis_refuses_deletes_no_letter_and_the_failed_replay_is_recorded(rds, db, test_settings):
    s = test_settings
    for i in range(3):
        about = {"dlq_code": "missing", "dlq_reason": "x", "dlq_stream": s.stream_iot, "dlq_id": f"{i + 1}-0"}
        rds.xadd(s.stream_deadletter, {**events.reading(f"aq-{i}", ts=T), **about, "dlq_at_ms": "1"})
    # A Redis user that may read and delete letters and hold the lock, but not append to the city streams.
    user = f"{s.consumer_group}_noadd"
    rds.execute_command("ACL", "SETUSER", user, "reset", "on", "nopass", f"~{s.stream_deadletter}",
                        f"~{s.consumer_group}:deadletter-replay", "-@all", "+xrange", "+xrevrange", "+xlen", "+xdel",
                        "+set", "+get", "+del", "+pexpire", "+ping")  # fmt: skip
    try:
        parts = urlsplit(s.redis_url)
        netloc = f"{user}@{parts.hostname}:{parts.port or 6379}"
        limited = redis.Redis.from_url(urlunsplit(parts._replace(netloc=netloc)))
        replayer = bootstrap.dead_letter_commands(s, limited, lambda: bootstrap.db_connection(s))
        with pytest.raises(Refused, match="The replay stopped"):
            replayer.replay(cli_principal("tests"), Selection())
    finally:
        rds.execute_command("ACL", "DELUSER", user)
    assert rds.xlen(s.stream_deadletter) == 3 and rds.xlen(s.stream_iot) == 0  # every letter kept
    assert not rds.exists(f"{s.consumer_group}:deadletter-replay")  # the lock was let go
    recorded = db.execute("SELECT outcome, details->>'replayed', details->>'refused' FROM audit_log").fetchall()
    assert recorded == [("failed", "0", "3")]


def test_with_the_database_down_no_replay_starts_since_it_could_not_be_recorded(rds, test_settings):
    s = test_settings
    rds.xadd(s.stream_deadletter, {**events.reading("aq-1", ts=T), "dlq_code": "missing", "dlq_reason": "x",
                                   "dlq_stream": s.stream_iot, "dlq_id": "1-0", "dlq_at_ms": "1"})  # fmt: skip
    unreachable = lambda: psycopg.connect("postgresql://nobody@127.0.0.1:9/none", connect_timeout=2)  # noqa: E731
    replayer = bootstrap.dead_letter_commands(s, rds, unreachable)
    with pytest.raises(Refused, match="nothing was replayed"):
        replayer.replay(cli_principal("tests"), Selection())
    assert (rds.xlen(s.stream_deadletter), rds.xlen(s.stream_iot)) == (1, 0)


def test_one_replay_at_a_time_and_a_second_is_refused_and_recorded(rds, db, test_settings):
    s = test_settings
    rds.xadd(s.stream_deadletter, {**events.reading("aq-1", ts=T), "dlq_code": "missing", "dlq_reason": "x",
                                   "dlq_stream": s.stream_iot, "dlq_id": "1-0", "dlq_at_ms": "1"})  # fmt: skip
    lock = f"{s.consumer_group}:deadletter-replay"
    rds.set(lock, b"another replay", px=60_000)  # as a replay running elsewhere holds it
    with pytest.raises(Refused, match="another replay of the dead letters is running"):
        commands(s).replay(cli_principal("tests"), Selection())
    assert commands(s).replay(cli_principal("tests"), Selection(), dry_run=True).replayed == 1  # a dry run may
    assert (rds.xlen(s.stream_deadletter), rds.xlen(s.stream_iot), rds.get(lock)) == (1, 0, b"another replay")
    assert db.execute("SELECT outcome FROM audit_log").fetchall() == [("failed",)]
    rds.delete(lock)
    assert commands(s).replay(cli_principal("tests"), Selection()).replayed == 1
