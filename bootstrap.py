"""The composition root: the one place that turns ``Settings`` into clients and workers.

Nothing connects at import time anywhere in the code base; callers (the CLI, gunicorn's ``app:server``, tests)
ask this module for what they need, built against the settings they pass.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import redis
from psycopg import sql

from settings import DatabaseAccount, RedisAccount, Settings
from storage.db import TIMESCALE_SCHEMA, connect
from storage.policies import Retention
from streams.consumer import IngestConfig, IngestWorker
from streams.fields import ParseContext
from streams.group_read import redis_at
from streams.parse_cache import ParseCache
from streams.status import pipeline_status

if TYPE_CHECKING:  # the dashboard's parts are imported where they are built, so `ioc ingest` never loads them
    from contextlib import AbstractContextManager

    from psycopg_pool import ConnectionPool

    from alerts.commands import ActionLimits, AlertCommands
    from api.keys import ApiKeyCommands
    from auth.admin import AccessCommands
    from auth.service import AccessService
    from live.builder import BuilderThread
    from live.reader import SnapshotReader
    from live.store import Snapshot
    from storage.dashboard_queries import DashboardQueries
    from streams.replay_command import DeadLetterCommands


def redis_client(settings: Settings, account: RedisAccount | None = None) -> redis.Redis:
    """Redis for the streams, as ``account``'s user (None: IOC_REDIS_URL); bytes in and out, since the parsers
    check the encoding themselves. With IOC_REDIS_CLUSTER the cluster client, whose stream reads come back as
    Redis sent them (``RawStreamCluster``)."""
    url = settings.redis_url_for(account) if account else settings.redis_url
    return redis_at(url, settings.redis_cluster, decode_responses=False, socket_connect_timeout=5,
                    socket_keepalive=True, health_check_interval=30)  # fmt: skip


def db_connection(settings: Settings, account: DatabaseAccount | None = None) -> psycopg.Connection:
    """A new connection working in the IOC schema, as ``account``'s role (None: IOC_DATABASE_URL)."""
    return connect(settings.database_url_for(account) if account else settings.database_url, settings.db_schema)


def database_role_passwords(settings: Settings) -> dict[str, str | None]:
    """PostgreSQL role → the password in its process's own URL (IOC_<ACCOUNT>_DATABASE_URL), None if unset."""
    from psycopg.conninfo import conninfo_to_dict

    from storage import roles

    accounts: dict[str, DatabaseAccount] = {roles.INGEST: "ingest", roles.ALERTS: "alerts",
                                            roles.DASHBOARD: "dashboard"}  # fmt: skip
    passwords: dict[str, str | None] = {}
    for role, account in accounts.items():
        own = getattr(settings, f"{account}_database_url").get_secret_value()
        passwords[role] = str(conninfo_to_dict(own).get("password") or "") or None if own else None
    return passwords


@lru_cache(maxsize=4)
def _city(path: Path, snap_m: float):
    from geo.city import CityMap

    return CityMap.from_geojson(path, snap_m=snap_m)


def city_map(settings: Settings):
    """The city's districts (parsed once per process)."""
    return _city(settings.districts_geojson, settings.district_snap_m)


def parse_context(settings: Settings) -> ParseContext:
    """The event contract's rules for this city."""
    return ParseContext(
        city=city_map(settings), bounds=settings.city_bounds, max_field_bytes=settings.max_field_bytes,
        max_future_skew_ms=settings.max_future_skew_s * 1000, max_entry_fields=settings.entry_max_fields,
        max_entry_bytes=settings.entry_max_bytes,
        cache=ParseCache(settings.parse_cache_max_entries, settings.parse_cache_max_bytes),
    )  # fmt: skip


def retention(settings: Settings) -> Retention:
    """How long each class of table keeps its rows."""
    return Retention(
        raw=timedelta(days=settings.retention_raw_days),
        minute=timedelta(days=settings.retention_minute_days),
        hour=timedelta(days=settings.retention_hour_days),
        device_hour=timedelta(days=settings.retention_device_hour_days),
    )


def ingest_config(settings: Settings) -> IngestConfig:
    """The ingest worker's view of the settings."""
    return IngestConfig(
        streams=settings.streams, group=settings.consumer_group, deadletter_stream=settings.stream_deadletter,
        deadletter_maxlen=settings.deadletter_maxlen, batch=settings.ingest_batch, block_ms=settings.ingest_block_ms,
        linger_ms=settings.ingest_linger_ms,
        claim_idle_ms=settings.claim_idle_ms, housekeeping_interval_s=settings.housekeeping_interval_s,
        db_retry_max_s=settings.db_retry_max_s, retention=retention(settings),
        new_per_minute=new_identity_caps(settings), forget_after=timedelta(hours=settings.device_forget_after_hours),
        shards=tuple(settings.shards.each),
    )  # fmt: skip


def new_identity_caps(settings: Settings) -> dict[str, int]:
    """New device ids, sites and request ids accepted per stream kind and minute (streams/admission.py)."""
    return {"iot": settings.ingest_new_devices_per_min, "datacenter": settings.ingest_new_sites_per_min,
            "complaints": settings.ingest_new_requests_per_min}  # fmt: skip


def default_consumer_name() -> str:
    """Unique per process: host and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


# --- dashboard read side (pages map, complaints, datacenters, history) --------------------------------------
DASHBOARD_POOL_MAX = 8
DASHBOARD_STATEMENT_TIMEOUT_MS = 15_000  # a page query that runs longer is a bug; never hold a worker hostage


def dashboard_pool(settings: Settings, url: str | None = None, name: str = "ioc-dashboard") -> ConnectionPool:
    """Autocommit connections in the IOC schema and the city's time zone; opened on first use, not here.

    ``url``: the dashboard's own database URL unless given (the read replica's, for the read pool)."""
    from psycopg_pool import ConnectionPool

    schema, timezone = settings.db_schema, settings.city_timezone

    def configure(conn: psycopg.Connection) -> None:
        path = sql.SQL("SET search_path TO {}, {}").format(sql.Identifier(schema), sql.Identifier(TIMESCALE_SCHEMA))
        conn.execute(path)
        conn.execute("SELECT set_config('TimeZone', %s, false), set_config('statement_timeout', %s, false)",
                     (timezone, str(DASHBOARD_STATEMENT_TIMEOUT_MS)))  # fmt: skip

    return ConnectionPool(
        url or settings.database_url_for("dashboard"), min_size=1, max_size=DASHBOARD_POOL_MAX, open=False,
        configure=configure,
        kwargs={"autocommit": True, "connect_timeout": 5}, name=name,
    )  # fmt: skip


@lru_cache(maxsize=4)
def _districts_geojson(path: Path) -> dict:
    import json

    return json.loads(path.read_text(encoding="utf-8"))


def district_centres(settings: Settings) -> dict[str, tuple[float, float]]:
    """District id → (lat, lon) of a point inside it, where a district's alerts are drawn on the maps."""
    city = city_map(settings)
    centres = {}
    for district in city.districts:
        point = city.geometry(district.id).representative_point()
        centres[district.id] = (round(point.y, 6), round(point.x, 6))
    return centres


def districts_geojson(settings: Settings) -> dict:
    """The district outlines as a GeoJSON FeatureCollection (read once per process; do not mutate)."""
    return _districts_geojson(settings.districts_geojson)
# --- end dashboard read side ----------------------------------------------------------------------------------


class DashboardServices:
    """What the dashboard's callbacks read from, built lazily so creating the app connects to nothing."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._redis: redis.Redis | None = None
        self._live_lock = threading.Lock()
        self._reader: SnapshotReader | None = None
        self._builder: BuilderThread | None = None
        self._pool: ConnectionPool | None = None
        self._read_pool: ConnectionPool | None = None
        self._pool_lock = threading.Lock()
        self._queries: DashboardQueries | None = None
        self._alerts = None
        self._access: AccessService | None = None
        self._access_commands: AccessCommands | None = None
        self._api_keys: ApiKeyCommands | None = None
        self._alert_commands: AlertCommands | None = None
        self._incident_commands = None
        self._incidents = None
        self._status_file = None
        self._dead_letters: DeadLetterCommands | None = None

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis_client(self.settings, "dashboard")
        return self._redis

    @property
    def pool(self) -> ConnectionPool:
        """This process's database connections (autocommit), opened on first use (after gunicorn forked)."""
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    pool = dashboard_pool(self.settings)
                    pool.open(wait=False)
                    self._pool = pool
        return self._pool

    @property
    def read_pool(self) -> ConnectionPool:
        """Connections for the pages' read queries: the replica at IOC_DATABASE_READ_URL, else ``pool`` itself.

        Only reads go here: a replica refuses writes, and lags the primary a little, so whatever must see its own
        writes (sign-in sessions, audit, alert commands and the alert console) stays on ``pool``."""
        if self.settings.dashboard_read_url() == self.settings.database_url_for("dashboard"):
            return self.pool
        if self._read_pool is None:
            with self._pool_lock:
                if self._read_pool is None:
                    pool = dashboard_pool(self.settings, self.settings.dashboard_read_url(), "ioc-dashboard-read")
                    pool.open(wait=False)
                    self._read_pool = pool
        return self._read_pool

    @property
    def queries(self) -> DashboardQueries:
        """The pages' read queries (on ``read_pool``)."""
        if self._queries is None:
            from storage.dashboard_queries import DashboardQueries

            self._queries = DashboardQueries(self.read_pool.connection)
        return self._queries

    @property
    def access(self) -> AccessService:
        """Sign-in, sessions and display tokens (checked on every request by ``auth.web``)."""
        if self._access is None:
            self._access = access_service(self.settings, self.redis, self.pool.connection)
        return self._access

    @property
    def access_commands(self) -> AccessCommands:
        """An admin's commands on accounts and display tokens."""
        if self._access_commands is None:
            self._access_commands = access_commands(self.settings, self.pool.connection)
        return self._access_commands

    @property
    def api_keys(self) -> ApiKeyCommands:
        """An admin's commands on the open-data API's keys."""
        if self._api_keys is None:
            from api.keys import ApiKeyCommands

            self._api_keys = ApiKeyCommands(self.pool.connection)
        return self._api_keys

    @property
    def alert_commands(self) -> AlertCommands:
        """Officers' actions on alerts and silences: the one command path (``alerts.commands``)."""
        if self._alert_commands is None:
            from alerts.commands import AlertCommands

            self._alert_commands = AlertCommands(self.pool.connection, lambda conn: alert_store(self.settings, conn),
                                                 alert_limits(self.settings))  # fmt: skip
        return self._alert_commands

    @property
    def incident_commands(self):
        """Officers' actions on incidents (``incidents.commands``)."""
        if self._incident_commands is None:
            from incidents.commands import IncidentCommands

            def recorder():
                rules = self.alert_rules()
                return incident_recorder(self.settings, None, {r.id: r.subject for r in rules})

            self._incident_commands = IncidentCommands(self.pool.connection, recorder, self.settings.note_max_chars)
        return self._incident_commands

    @property
    def incidents(self):
        """The incidents' reads (``incidents.service.IncidentConsole``): the page, the map and the wall."""
        if self._incidents is None:
            from incidents.service import IncidentConsole

            self._incidents = IncidentConsole(lambda: db_connection(self.settings, "dashboard"),
                                              lambda: {r.id: r.metric for r in self.alert_rules() if r.metric})
        return self._incidents

    def status_bands(self):
        """The status bands in force (``live.thresholds.StatusBands``), re-read when the rules file changes."""
        if self._status_file is None:
            self._status_file = status_file(self.settings)
        return self._status_file.current()

    def alert_rules(self) -> list:
        """The rules in force, re-read only when the rules file changes."""
        path = self.settings.alert_rules_file
        return _rules_at(path, path.stat().st_mtime_ns)

    @property
    def alerts(self):
        """The alert console's reads (``alerts.service.AlertConsole``), built on first use."""
        if self._alerts is None:
            from alerts.service import AlertConsole

            self._alerts = AlertConsole(lambda: db_connection(self.settings, "dashboard"))
        return self._alerts

    def health(self) -> dict[str, bool]:
        """Whether Redis and the database answer."""
        status = {"redis": False, "database": False}
        with contextlib.suppress(redis.RedisError):
            status["redis"] = bool(self.redis.ping())
        try:
            with db_connection(self.settings, "dashboard") as conn:
                status["database"] = conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error:
            pass
        return status

    def snapshot(self) -> Snapshot | None:
        """The live snapshot; the first call in a process starts its (lock-elected) snapshot builder."""
        if self._reader is None:
            with self._live_lock:
                if self._reader is None:
                    from live.reader import SnapshotReader
                    from live.store import LiveKeys

                    self._builder = live_builder(self.settings)
                    self._builder.start()
                    keys = LiveKeys(self.settings.consumer_group)
                    self._reader = SnapshotReader(live_redis_client(self.settings), keys)
        return self._reader.current()

    def stop(self) -> None:
        """Stop this process's snapshot builder (tests; gunicorn workers just exit)."""
        if self._builder is not None:
            self._builder.stop()
            self._builder.join(timeout=5)

    def pipeline_status(self) -> dict:
        """Per stream: entries kept, lag, pending, stored, rejected."""
        return pipeline_status(self.redis, self.settings.shards.names, self.settings.consumer_group)

    @property
    def dead_letters(self) -> DeadLetterCommands:
        """The dead letters: read them (``.letters``) and replay them as an admin (the pipeline page)."""
        if self._dead_letters is None:
            self._dead_letters = dead_letter_commands(self.settings, self.redis, self.pool.connection)
        return self._dead_letters


def live_redis_client(settings: Settings) -> redis.Redis:
    """Redis for the live snapshot: short timeouts, so a viewer never waits long on an outage."""
    return redis_at(settings.redis_url_for("dashboard"), settings.redis_cluster, socket_connect_timeout=1,
                    socket_timeout=2, health_check_interval=30)  # fmt: skip


def live_builder(settings: Settings) -> BuilderThread:
    """This process's candidate snapshot builder (not started)."""
    from live.builder import BuilderThread, SnapshotBuilder
    from live.store import LiveKeys

    builder = SnapshotBuilder(
        live_redis_client(settings), lambda: db_connection(settings, "dashboard"), LiveKeys(settings.consumer_group),
        settings.city_timezone, settings.live_rebuild_min_s, settings.live_rebuild_max_s,
        district_centres=district_centres(settings), alert_lease_key=f"{settings.alert_consumer_group}:leader",
        max_sensors=settings.live_max_sensors, bands=status_file(settings).current, kpi=settings.city_pack.file.kpi,
    )  # fmt: skip
    return BuilderThread(builder)


def status_file(settings: Settings):
    """The status bands of IOC_ALERT_RULES_FILE, re-read when it changes (``alerts.bands.StatusFile``)."""
    from alerts.bands import StatusFile

    return StatusFile(settings.alert_rules_file)


def status_bands(settings: Settings):
    """The status bands of IOC_ALERT_RULES_FILE, read once (``live.thresholds.StatusBands``)."""
    from alerts.rules import load_config

    return load_config(settings.alert_rules_file).bands


def access_policy(settings: Settings):
    """Session lifetimes, lockout and the SSO account policy from the settings."""
    from auth.lockout import LockoutPolicy
    from auth.roles import Role
    from auth.sessions import AccessPolicy

    return AccessPolicy(
        session_lifetime=timedelta(hours=settings.session_hours),
        display_session_lifetime=timedelta(days=settings.display_session_days),
        display_recheck_s=settings.display_recheck_s,
        lockout=LockoutPolicy(settings.signin_max_failures, timedelta(minutes=settings.signin_lockout_minutes)),
        sso_new_user_role=None if settings.sso_new_user_role == "none" else Role(settings.sso_new_user_role),
    )


def access_service(settings: Settings, client: redis.Redis,
                   connect: Callable[[], AbstractContextManager[psycopg.Connection]]) -> AccessService:  # fmt: skip
    """Sign-in and sessions over ``connect``; sign-in attempts counted in ``client``."""
    from auth.ratelimit import AttemptLimiter
    from auth.service import AccessService

    limiter = AttemptLimiter(client, f"{settings.consumer_group}:signin-attempts", settings.signin_attempts_per_minute)
    return AccessService(connect, limiter, access_policy(settings))


def access_commands(settings: Settings, conn_factory: Callable[[], AbstractContextManager[psycopg.Connection]]):
    """The admin commands on accounts and display tokens (``ioc users``, ``ioc displays``, the admin page)."""
    from auth.admin import AccessCommands
    from layouts.wall import VIEWS

    return AccessCommands(conn_factory, list(VIEWS))


def dead_letter_commands(settings: Settings, client: redis.Redis,
                         connect: Callable[[], AbstractContextManager[psycopg.Connection]]) -> DeadLetterCommands:
    """The dead-letter stream read and replayed over ``client`` (the dashboard's Redis account), replays recorded in
    the audit trail over ``connect`` (``ioc deadletter``, the pipeline page)."""
    from streams.replay import DeadLetters
    from streams.replay_command import DeadLetterCommands

    letters = DeadLetters(client, settings.stream_deadletter, settings.shards.names,
                          lock_key=f"{settings.consumer_group}:deadletter-replay",
                          stats_key=f"{settings.consumer_group}:stats")  # fmt: skip
    return DeadLetterCommands(letters, connect)


def alert_limits(settings: Settings) -> ActionLimits:
    """Server-side bounds on officers' actions."""
    from alerts.commands import ActionLimits

    return ActionLimits(silence_max=timedelta(hours=settings.silence_max_hours), note_max_chars=settings.note_max_chars,
                        matchers_max=settings.silence_max_matchers)  # fmt: skip


def ingest_worker(settings: Settings, consumer: str | None = None) -> IngestWorker:
    """An ingest worker wired to the configured Redis and database."""
    return IngestWorker(
        redis_client(settings, "ingest"), lambda: db_connection(settings, "ingest"), ingest_config(settings),
        parse_context(settings),
        consumer or default_consumer_name(),
    )  # fmt: skip


# --- alerts (issue 5): rules → evaluator → alert store → outbox → webhook sender ----------------------------
# Imported inside the functions so `ioc ingest` and the dashboard do not load the alerting code.
@lru_cache(maxsize=4)
def _rules_at(path: Path, _mtime_ns: int) -> list:
    from alerts.rules import load_rules

    return load_rules(path)


def alert_rules(settings: Settings) -> list:
    """The validated rules of IOC_ALERT_RULES_FILE (raises ``alerts.rules.RuleError`` naming each mistake)."""
    from alerts.evaluate import forget_horizon_problems
    from alerts.rules import RuleError, load_rules

    rules = load_rules(settings.alert_rules_file)
    problems = forget_horizon_problems(rules, settings.device_forget_after_hours * 3600)
    if problems:
        raise RuleError(str(settings.alert_rules_file), problems)
    return rules


def alert_store(settings: Settings, conn: psycopg.Connection, grouping=None):
    """The alert lifecycle writer on ``conn``; notifications go to every configured receiver. ``grouping``
    (``incidents.grouping.GroupingRules``, the evaluator's) lets alerts and complaints open and join incidents;
    without it, alert changes made by officers still reach the timelines of the incidents the alerts are in."""
    from alerts.store import AlertStore
    from i18n.webhook_text import texter

    path = settings.alert_rules_file
    rules = _rules_at(path, path.stat().st_mtime_ns)
    text = texter(settings.default_language, settings.display_zone, lambda: _rules_at(path, path.stat().st_mtime_ns),
                  _district_names(settings))  # fmt: skip
    return AlertStore(conn, [r.name for r in settings.alert_receivers], settings.dashboard_url,
                      max_open_per_rule=settings.alert_max_open_per_rule, text=text,
                      language=settings.default_language,
                      incidents=incident_recorder(settings, grouping, {r.id: r.subject for r in rules}))  # fmt: skip


def _district_names(settings: Settings):
    from i18n.districts import district_names

    return district_names(str(settings.districts_geojson))


def incident_recorder(settings: Settings, grouping, subjects):
    """Incidents written in the alert store's transactions (``incidents.store.IncidentRecorder``)."""
    from i18n.webhook_text import incident_texter
    from incidents.store import IncidentRecorder

    text = incident_texter(settings.default_language, settings.display_zone, _district_names(settings))
    return IncidentRecorder(grouping, subjects, [r.name for r in settings.alert_receivers], settings.dashboard_url,
                            text, settings.default_language)  # fmt: skip


def incident_grouping(settings: Settings):
    """The ``[incidents]`` table of IOC_ALERT_RULES_FILE (``incidents.grouping.GroupingRules``)."""
    from alerts.rules import load_config

    return load_config(settings.alert_rules_file).incidents


def alert_evaluator(settings: Settings):
    """The leader-elected evaluator on the city streams (consumer group IOC_ALERT_CONSUMER_GROUP)."""
    from alerts.evaluate import SubjectLimits
    from alerts.worker import EvaluatorConfig, EvaluatorWorker

    limits = SubjectLimits(new_identity_caps(settings), settings.device_forget_after_hours * 3600)
    grouping = incident_grouping(settings)
    config = EvaluatorConfig(streams=settings.streams, group=settings.alert_consumer_group,
                             tick_s=settings.alert_tick_s, batch=settings.ingest_batch,
                             db_retry_max_s=settings.db_retry_max_s, linger_ms=settings.alert_linger_ms,
                             limits=limits, shards=tuple(settings.shards.each), timezone=settings.city_timezone,
                             baseline_refresh_s=settings.alert_baseline_refresh_s,
                             group_incidents=grouping is not None and grouping.enabled)  # fmt: skip
    return EvaluatorWorker(redis_client(settings, "alerts"), lambda: db_connection(settings, "alerts"),
                           lambda conn: alert_store(settings, conn, grouping), alert_rules(settings), config,
                           parse_context(settings))  # fmt: skip


def alert_sender(settings: Settings):
    """The webhook sender; refuses at once (``ReceiverRefused``) a receiver whose host is not allowed or that has
    no signing secret (IOC_ALERT_RECEIVER_SECRETS: only this process needs them)."""
    from alerts.retry import RetryPolicy
    from alerts.sender import Sender
    from alerts.webhooks import ReceiverRefused

    try:
        receivers = settings.signing_receivers()
    except ValueError as missing:
        raise ReceiverRefused(str(missing)) from None
    policy = RetryPolicy(base_s=settings.alert_retry_base_s, max_delay_s=settings.alert_retry_max_delay_s,
                         give_up_after_s=settings.alert_retry_for_s)  # fmt: skip
    return Sender(lambda: db_connection(settings, "alerts"), settings.db_schema, {r.name: r for r in receivers},
                  settings.alert_webhook_allowed_hosts, policy, settings.alert_webhook_timeout_s,
                  settings.alert_sender_threads, per_receiver=settings.alert_sender_per_receiver)  # fmt: skip
# --- end alerts ----------------------------------------------------------------------------------------------
