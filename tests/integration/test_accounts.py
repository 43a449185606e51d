"""Least privilege against the real Redis and TimescaleDB of `ioc services up` (docs/SECURITY.md, "Accounts").

Each process's account may do what that process does and nothing else. The users `ioc services up` made for the
city streams are checked with ``ACL DRYRUN`` (nothing is written to the development streams); the same rules are
then exercised for real by users of the test's own (``t<tag>_ioc_…``, for the test's own streams), and the
PostgreSQL roles, which are cluster-wide, by logging in as them on the test's own schema.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
import redis
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

import bootstrap
from alerts import console
from alerts.evaluate import Condition
from alerts.store import AlertStore
from auth import audit
from auth import store as auth_store
from auth.principal import cli_principal
from infra import redis_acl
from infra import services as infra_services
from infra.services_plan import postgres_address
from settings import Settings
from storage import roles
from streams.replay import Selection
from tests.integration import events
from tests.integration.conftest import count, wait_until
from tests.integration.processes import REPO, settings_env
from tests.isolation import isolated

NOPERM = redis.exceptions.NoPermissionError
REFUSED = psycopg.errors.InsufficientPrivilege


def redis_as(url: str, user: str, password: str | None = None) -> str:
    """``url`` with another user (and password, or none)."""
    parts = urlsplit(url)
    auth = quote(user) + (f":{quote(password)}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{auth}@{parts.hostname}:{parts.port or 6379}"))


def database_as(settings: Settings, role: str) -> str:
    """The test database's URL as ``role``, with the password of that account's own URL if one is configured."""
    account = {roles.INGEST: "ingest", roles.ALERTS: "alerts", roles.DASHBOARD: "dashboard"}[role]
    own = getattr(settings, f"{account}_database_url").get_secret_value()
    password = conninfo_to_dict(own).get("password") if own else None
    return make_conninfo(settings.database_url, user=role, **({"password": password} if password else {}))


@pytest.fixture
def accounts(base_settings: Settings) -> Iterator[tuple[Settings, dict[str, str]]]:
    """Settings with a schema, streams, groups and Redis users of this test; account → its Redis URL."""
    tag = uuid.uuid4().hex[:10]
    with isolated(base_settings, alert_consumer_group=f"t{tag}-alerts", ingest_block_ms=50,
                  housekeeping_interval_s=0.2, claim_idle_ms=500, db_retry_max_s=0.5) as settings:  # fmt: skip
        prefix = f"{settings.consumer_group}_"
        admin = bootstrap.redis_client(settings)
        names = redis_acl.apply_acl(admin, settings, {}, user_prefix=prefix)
        try:
            yield settings, {a: redis_as(settings.redis_url, prefix + u) for a, u in redis_acl.USERS.items()}
        finally:
            admin.execute_command("ACL", "DELUSER", *names)


def as_account(settings: Settings, urls: dict[str, str], account: str) -> Settings:
    """``settings`` for ``account``'s process: its own Redis user and database role; the generic URLs unreachable,
    so a path that forgot its account fails instead of passing as the administrator."""
    update: dict[str, object] = {f"{account}_redis_url": urls[account]} if account in urls else {}
    if account != "producer":
        role = {"ingest": roles.INGEST, "alerts": roles.ALERTS, "dashboard": roles.DASHBOARD}[account]
        update[f"{account}_database_url"] = database_as(settings, role)
    return settings.model_copy(update={k: _secret(v) for k, v in update.items()})


def _secret(value: str):
    from pydantic import SecretStr

    return SecretStr(value)


# --- what `ioc services up` set up, checked without touching the development streams ----------------------------
def dry(client: redis.Redis, user: str, *command: object) -> bool:
    """Whether ``user`` may run ``command`` (ACL DRYRUN: checked, never run)."""
    try:
        return client.execute_command("ACL", "DRYRUN", user, *command) == b"OK"
    except redis.ResponseError:
        return False


def test_services_up_makes_the_city_accounts_idempotently(base_settings: Settings):
    said: list[str] = []
    database = postgres_address(base_settings.database_url)[2]
    for _ in range(2):  # what `ioc services up` runs after the services answer; twice changes nothing
        infra_services.ensure_accounts(base_settings, [database], said.append)
    assert any("Redis users: ioc_producer, ioc_ingest, ioc_alerts, ioc_dashboard" in line for line in said)
    client = bootstrap.redis_client(base_settings)
    iot, complaints, dc = base_settings.stream_iot, base_settings.stream_complaints, base_settings.stream_datacenter
    dead, group = base_settings.stream_deadletter, base_settings.consumer_group
    producer, ingest = redis_acl.USERS["producer"], redis_acl.USERS["ingest"]
    alerts, dashboard = redis_acl.USERS["alerts"], redis_acl.USERS["dashboard"]

    for stream in (iot, complaints, dc):
        assert dry(client, producer, "XADD", stream, "*", "device_id", "x")
    for refused in (("XADD", dead, "*", "a", "b"), ("XADD", "elsewhere", "*", "a", "b"), ("XRANGE", iot, "-", "+"),
                    ("XREAD", "STREAMS", iot, "0"), ("XREADGROUP", "GROUP", group, "c", "STREAMS", iot, ">"),
                    ("DEL", iot), ("XTRIM", iot, "MAXLEN", "0"), ("XLEN", iot), ("GET", "x"), ("KEYS", "*"),
                    ("FLUSHALL",), ("CONFIG", "SET", "appendonly", "no"), ("ACL", "LIST")):  # fmt: skip
        assert not dry(client, producer, *refused), refused

    assert dry(client, ingest, "XADD", dead, "*", "a", "b")
    assert dry(client, ingest, "XACK", iot, group, "1-0")
    assert dry(client, ingest, "XTRIM", iot, "MINID", "1-0")
    for refused in (("XADD", iot, "*", "a", "b"), ("DEL", iot), ("HSET", f"{group}:live", "a", "b"),
                    ("FLUSHALL",), ("XRANGE", dead, "-", "+")):  # fmt: skip
        assert not dry(client, ingest, *refused), refused

    lease = f"{base_settings.alert_consumer_group}:leader"
    assert dry(client, alerts, "SET", lease, "me", "NX", "PX", "5000")
    for refused in (("DEL", iot), ("SET", iot, "x"), ("XADD", iot, "*", "a", "b"), ("HGETALL", f"{group}:stats")):
        assert not dry(client, alerts, *refused), refused

    assert dry(client, dashboard, "HSET", f"{group}:live", "version", "1")
    assert dry(client, dashboard, "XINFO", "GROUPS", iot)
    # An admin's dead-letter replay: read and delete letters, append to the city streams, hold the replay lock.
    for allowed in (("XRANGE", dead, "-", "+"), ("XREVRANGE", dead, "+", "-"), ("XDEL", dead, "1-0"),
                    ("XADD", iot, "*", "a", "b"), ("SET", f"{group}:deadletter-replay", "x", "NX", "PX", "1")):
        assert dry(client, dashboard, *allowed), allowed
    for refused in (("DEL", iot), ("HSET", f"{group}:stats", "inserted", "0"), ("DEL", lease),
                    ("XRANGE", iot, "-", "+"), ("XDEL", iot, "1-0"), ("XADD", dead, "*", "a", "b"), ("DEL", dead),
                    ("XTRIM", dead, "MAXLEN", "0"), ("XADD", "elsewhere", "*", "a", "b"), ("FLUSHALL",)):  # fmt: skip
        assert not dry(client, dashboard, *refused), refused


# --- the same rules, for real, on the test's own streams -----------------------------------------------------------
def test_a_producer_may_only_append_to_the_city_streams(accounts):
    settings, urls = accounts
    producer = bootstrap.redis_client(as_account(settings, urls, "producer"), "producer")
    for stream in settings.streams.values():
        assert producer.xadd(stream, events.reading("aq-1"))
    admin = bootstrap.redis_client(settings)
    admin.set(f"{settings.consumer_group}:other", "kept")
    refused = [
        lambda: producer.xrange(settings.stream_iot),
        lambda: producer.xread({settings.stream_iot: "0"}),
        lambda: producer.xlen(settings.stream_iot),
        lambda: producer.delete(settings.stream_iot),
        lambda: producer.xtrim(settings.stream_iot, maxlen=0),
        lambda: producer.xadd(settings.stream_deadletter, {"forged": "1"}),
        lambda: producer.xadd(f"{settings.consumer_group}:other-stream", {"a": "b"}),
        lambda: producer.get(f"{settings.consumer_group}:other"),
        lambda: producer.keys("*"),
        lambda: producer.flushall(),
    ]
    for attempt in refused:
        with pytest.raises(NOPERM):
            attempt()
    assert admin.xlen(settings.stream_iot) == 1 and admin.get(f"{settings.consumer_group}:other") == b"kept"
    assert not admin.exists(settings.stream_deadletter)


def test_an_ingest_worker_process_runs_on_its_own_accounts_end_to_end(accounts, tmp_path):
    settings, urls = accounts
    producer = bootstrap.redis_client(as_account(settings, urls, "producer"), "producer")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    for n in range(20):
        producer.xadd(settings.stream_iot, events.reading(f"aq-{n}", ts=now_ms - 1000 + n))
    producer.xadd(settings.stream_complaints, events.complaint("rq-1", "open", now_ms))
    producer.xadd(settings.stream_datacenter, events.sample("dc-1", 1200.0, 900.0, now_ms))
    producer.xadd(settings.stream_iot, events.reading("aq-99") | {"value": "not a number"})

    ingest = as_account(settings, urls, "ingest")
    env = settings_env(settings)
    env.update({
        "IOC_INGEST_REDIS_URL": ingest.ingest_redis_url.get_secret_value(),
        "IOC_INGEST_DATABASE_URL": ingest.ingest_database_url.get_secret_value(),
        # Nothing answers at the generic URLs: the worker must use its own accounts for everything.
        "IOC_REDIS_URL": "redis://127.0.0.1:9/0", "IOC_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
    })  # fmt: skip
    log = tmp_path / "ingest.log"
    with open(log, "ab") as out:
        worker = subprocess.Popen([sys.executable, "-m", "cli.main", "ingest"], cwd=REPO, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)  # fmt: skip
    admin = bootstrap.db_connection(settings)
    admin.autocommit = True
    rds = bootstrap.redis_client(settings)
    try:
        wait_until(lambda: count(admin, "SELECT count(*) FROM sensor_readings") == 20
                   and count(admin, "SELECT count(*) FROM complaints") == 1
                   and count(admin, "SELECT count(*) FROM datacenter_latest") == 1
                   and rds.xlen(settings.stream_deadletter) == 1, what=f"ingest on its accounts ({log})")  # fmt: skip
        # Acknowledged, and housekeeping (claims, trims, retention through the owner's function) ran as well.
        wait_until(lambda: all(g["pending"] == 0 for s in settings.streams.values() for g in rds.xinfo_groups(s)))
        wait_until(lambda: b"last_commit_ms" in rds.hgetall(f"{settings.consumer_group}:stats"))
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()  # SIGTERM: the worker finishes its batch and exits
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        admin.close()
    text = log.read_text()
    assert "NOPERM" not in text and "permission denied" not in text and "Traceback" not in text, text


def test_the_dashboard_and_the_evaluator_work_on_their_own_accounts(accounts):
    settings, urls = accounts
    dashboard_settings = as_account(settings, urls, "dashboard").model_copy(
        update={"redis_url": "redis://127.0.0.1:9/0", "database_url": "postgresql://nobody@127.0.0.1:9/none"}
    )
    services = bootstrap.DashboardServices(dashboard_settings)
    try:
        assert services.health() == {"redis": True, "database": True}
        assert [row["stream"] for row in services.pipeline_status()["streams"]] == list(settings.streams.values())
        builder = bootstrap.live_builder(dashboard_settings).builder
        assert builder.step() == 1  # lock, Lua settle, snapshot hash; the city read as the dashboard role
        builder.close()
        assert services.access.limiter.allow("192.0.2.1")
        # An admin's replay of a dead letter, read, re-added and deleted as the dashboard's account.
        admin = bootstrap.redis_client(settings)
        sample = events.sample("dc-9", 1200, 1000, 1_764_000_000_000)
        admin.xadd(settings.stream_deadletter, {**sample, "dlq_code": "missing", "dlq_reason": "x", "dlq_at_ms": "1",
                                                "dlq_stream": settings.stream_datacenter, "dlq_id": "1-0"})
        report = services.dead_letters.replay(cli_principal("tests"), Selection())
        assert (report.replayed, admin.xlen(settings.stream_deadletter)) == (1, 0)
        assert admin.xlen(settings.stream_datacenter) == 1
    finally:
        services.pool.close()

    alerts_settings = as_account(settings, urls, "alerts").model_copy(
        update={"redis_url": "redis://127.0.0.1:9/0", "database_url": "postgresql://nobody@127.0.0.1:9/none"}
    )
    evaluator = bootstrap.alert_evaluator(alerts_settings)
    evaluator.ensure_groups()
    assert evaluator._lead()
    producer = bootstrap.redis_client(as_account(settings, urls, "producer"), "producer")
    producer.xadd(settings.stream_iot, events.reading("aq-1"))
    try:
        evaluator._become_leader()  # its memory, read as ioc_alerts
        evaluator.step()  # reads the reading, evaluates, acknowledges
        groups = bootstrap.redis_client(settings).xinfo_groups(settings.stream_iot)
        assert [(g["name"], g["pending"], g["entries-read"]) for g in groups] == [
            (settings.alert_consumer_group.encode(), 0, 1)]  # fmt: skip
        with pytest.raises(NOPERM):
            evaluator.client.delete(settings.stream_iot)
    finally:
        evaluator.client.eval("return redis.call('del', KEYS[1])", 1, evaluator.config.lease_key)
        evaluator.db.close()


# --- PostgreSQL roles --------------------------------------------------------------------------------------------
def refused(conn: psycopg.Connection, statement: str, *params: object) -> bool:
    """Whether ``statement`` is refused for lack of privilege (the trigger's refusal would not count)."""
    try:
        with conn.transaction():
            conn.execute(statement, params)
    except REFUSED as error:
        return "permission denied" in str(error) or "must be owner" in str(error)
    return False


def connect_as(settings: Settings, role: str) -> psycopg.Connection:
    conn = psycopg.connect(database_as(settings, role), autocommit=True)
    conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(settings.db_schema)))
    return conn


def fire_one_alert(settings: Settings) -> int:
    """An alert, written as the evaluator writes it (as ioc_alerts)."""
    with connect_as(settings, roles.ALERTS) as conn:
        store = AlertStore(conn, ["ops"], settings.dashboard_url)
        at = datetime.now(UTC)
        store.apply([Condition("r1", "aq-1", True, 80.0, 50.0, "warning", "PM2.5 high", {"district": "futian"}, at)])
        return conn.execute("SELECT id FROM alerts WHERE rule_id = 'r1'").fetchone()[0]


def test_the_dashboard_role_reads_and_writes_only_what_the_dashboard_must(accounts):
    settings, _ = accounts
    alert_id = fire_one_alert(settings)
    with connect_as(settings, roles.DASHBOARD) as conn:
        now = datetime.now(UTC)
        for statement in (
            "INSERT INTO sensor_readings DEFAULT VALUES",
            "UPDATE sensor_readings SET value = 0", "DELETE FROM sensor_readings",
            "UPDATE sensor_latest SET value = 0", "DELETE FROM complaints", "UPDATE sensor_rollup_1m SET readings = 0",
            "INSERT INTO alerts DEFAULT VALUES",
            "DELETE FROM alerts", "UPDATE alerts SET severity = 'info'", "UPDATE alerts SET summary = 'changed'",
            "UPDATE alert_outbox SET status = 'delivered'", "DELETE FROM alert_outbox",
            "UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log", "TRUNCATE audit_log",
            "DELETE FROM alert_silences", "CREATE TABLE planted (x int)",
        ):  # fmt: skip
            assert refused(conn, statement), statement
        # What the dashboard does: the pages' reads, an officer's actions, silences, accounts, sessions, audit.
        assert conn.execute("SELECT count(*) FROM sensor_readings").fetchone()[0] == 0
        acked = AlertStore(conn, ["ops"], settings.dashboard_url).acknowledge(alert_id, "officer", "on it")
        assert acked["status"] == "acknowledged"
        silence = console.create_silence(conn, {"district": "futian"}, now, now + timedelta(hours=1), "officer")
        assert console.expire_silence(conn, silence)
        user = auth_store.add_user(conn, f"u{uuid.uuid4().hex[:6]}", "Officer", "operator", None)
        auth_store.create_session(conn, uuid.uuid4().bytes * 2, now + timedelta(hours=1), "192.0.2.1",
                                  user_id=user["id"])  # fmt: skip
        assert auth_store.delete_expired_sessions(conn, now + timedelta(days=1)) == 1
        audit.record(conn, None, "signin", outcome="denied", name="someone", address="192.0.2.1")
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1


def test_the_audit_writer_may_only_append(accounts, db):
    settings, _ = accounts
    db.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(settings.db_schema)))
    db.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.AUDIT_WRITER)))  # a group role: no login
    try:
        db.execute("INSERT INTO audit_log (actor, action, outcome) VALUES ('a', 'signin', 'ok')")
        for statement in ("UPDATE audit_log SET actor = 'b'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                          "SELECT * FROM audit_log", "INSERT INTO alert_events (alert_id, actor, action)"
                          " VALUES (1, 'a', 'note')"):  # fmt: skip
            assert refused(db, statement), statement
    finally:
        db.execute("RESET ROLE")
    assert count(db, "SELECT count(*) FROM audit_log") == 1


@pytest.fixture
def db(accounts) -> Iterator[psycopg.Connection]:
    settings, _ = accounts
    conn = bootstrap.db_connection(settings)
    conn.autocommit = True
    yield conn
    conn.close()


def test_ingest_and_alerts_roles_keep_out_of_each_other_and_of_the_accounts(accounts):
    settings, _ = accounts
    with connect_as(settings, roles.INGEST) as conn:
        for statement in ("SELECT password_hash FROM auth_users", "SELECT * FROM audit_log", "SELECT * FROM alerts",
                          "INSERT INTO audit_log (actor, action, outcome) VALUES ('a', 'b', 'ok')",
                          "DROP TABLE sensor_readings", "SELECT drop_chunks('sensor_readings', now())"):  # fmt: skip
            assert refused(conn, statement), statement
        assert conn.execute("SELECT drop_expired_chunks('sensor_readings', interval '30 days')").fetchone() == (0,)
        with pytest.raises(REFUSED):
            conn.execute("SELECT drop_expired_chunks('auth_users', interval '30 days')")
    with connect_as(settings, roles.ALERTS) as conn:
        for statement in ("SELECT password_hash FROM auth_users", "SELECT * FROM audit_log",
                          "DELETE FROM sensor_latest", "INSERT INTO alert_silences (matchers, starts_at, ends_at,"
                          " created_by) VALUES ('{\"a\": \"b\"}', now(), now() + interval '1 hour', 'x')",
                          "SELECT drop_expired_chunks('sensor_readings', interval '30 days')",
                          "DELETE FROM device_rollup_1h", "INSERT INTO sensor_readings DEFAULT VALUES"):  # fmt: skip
            assert refused(conn, statement), statement
        # per-device anomaly rules: the evaluator writes the hourly means and back-fills them from the raw readings
        conn.execute("INSERT INTO device_rollup_1h (metric, bucket, device_id, kind, district, readings, value_sum)"
                     " VALUES ('laeq_db', now(), 'ns-1', 'noise', 'futian', 1, 60) ON CONFLICT (metric, bucket,"
                     " device_id) DO UPDATE SET readings = device_rollup_1h.readings + 1")  # fmt: skip
        assert conn.execute("SELECT count(*) FROM sensor_readings").fetchone() == (0,)
    with connect_as(settings, roles.INGEST) as conn:
        assert refused(conn, "INSERT INTO device_rollup_1h DEFAULT VALUES")  # ingest never writes it


def test_migrations_run_as_the_owner_and_no_process_role_owns_a_table(accounts, db):
    settings, _ = accounts
    owners = {r[0] for r in db.execute(
        "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = %s", (settings.db_schema,))}  # fmt: skip
    assert owners == {roles.OWNER}
    schema_owner = db.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = %s",
                              (settings.db_schema,)).fetchone()[0]  # fmt: skip
    assert schema_owner == roles.OWNER


def test_the_simulators_history_backfill_needs_no_more_than_the_ingest_role(accounts):
    from cli.simulate import sim_config
    from simulator.backfill import backfill_database
    from simulator.engine import CitySimulation
    from simulator.history import coarse_rate, stretches

    settings, _ = accounts
    settings = settings.model_copy(update={"sim_sensors": 40})
    sim = CitySimulation(bootstrap.city_map(settings), sim_config(settings))
    coarse = coarse_rate(len(sim.channels), 1800.0)
    conn = bootstrap.db_connection(as_account(settings, {}, "ingest"), "ingest")  # as `ioc simulate backfill`
    try:
        filled = backfill_database(sim, conn, bootstrap.parse_context(settings), 0.5,
                                   lambda start, end, now: stretches(start, end, now, coarse, 2.0, 5 * 60_000),
                                   wall_ms=lambda: 1_764_504_000_000)  # fmt: skip
    finally:
        conn.close()
    assert filled is not None and filled.readings > 0
