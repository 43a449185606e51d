"""The alert evaluator worker: read the city streams as consumer group `ioc-alerts`, evaluate, store, acknowledge.

Windows and holds live in the evaluator's memory, so exactly one process evaluates at a time: a Redis lease
(``<group>:leader``, renewed every tick) elects it, and it always reads as consumer ``evaluator``, so a new leader
first re-reads what the old one left unacknowledged. Entries are acknowledged only after the conditions they
produced are committed. A new leader rebuilds its memory: open alerts (so they can resolve), open complaints
(for SLA rules) and the devices and sites heard within the no-data rules' `silent_for` come from the database;
windows refill from the stream within one window length.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import psycopg
import redis

from alerts.baselines import load_baselines
from alerts.device_baselines import TooManyDeviceHours, load_device_baselines
from alerts.device_history import DeviceHistory
from alerts.evaluate import Condition, Evaluator, HeardDevice, HeardSite, SubjectLimits
from alerts.metrics import evaluator_metrics
from alerts.prefilter import reading_filter
from alerts.rules import Rule
from alerts.store import AlertStore
from incidents.grouping import Place
from streams.backoff import Reconnecting
from streams.batching import parse_entries
from streams.consumer_group import ConsumerGroup, ShardEntries, short_read
from streams.fields import ParseContext

log = logging.getLogger(__name__)
CONSUMER = "evaluator"
# Renew the lease only if we still hold it (a paused process must not extend a lease someone else took).
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
DB_OUTAGES = (psycopg.OperationalError, psycopg.InterfaceError)
PLACES_LIMIT = 200_000


@dataclass(frozen=True)
class EvaluatorConfig:
    """What the evaluator worker needs from the settings."""

    streams: dict[str, str]  # kind → stream name
    group: str
    tick_s: float
    batch: int
    db_retry_max_s: float
    linger_ms: int = 0
    limits: SubjectLimits | None = None  # new subjects per minute and the forgetting horizon
    # Each shard's kind → stream name (streams/shards.py); None: one shard, ``streams`` itself.
    shards: tuple[dict[str, str], ...] | None = None
    timezone: str = "UTC"  # the city's: anomaly baselines are per hour of the city's day
    baseline_refresh_s: float = 3600.0  # how often anomaly baselines are loaded again from the hourly rollups
    # An [incidents] table is in force: remember where each device was last heard, which says where its alert is
    # (half a microsecond a reading, not paid by a city that groups nothing).
    group_incidents: bool = False
    # Closed device-hours of per-device anomaly rules are written at most this often: they close within the first
    # minute of an hour, so this is about one statement an hour.
    hours_write_s: float = 60.0

    @property
    def baseline_retry_s(self) -> float:
        """After a failed load, the next try: soon, but not a tight loop against a database that is away."""
        return min(60.0, self.baseline_refresh_s)

    @property
    def shard_streams(self) -> tuple[dict[str, str], ...]:
        return self.shards or (self.streams,)

    @property
    def lease_key(self) -> str:
        return f"{self.group}:leader"

    @property
    def lease_ms(self) -> int:
        return int(max(5.0, 5 * self.tick_s) * 1000)


class EvaluatorWorker:
    """Leader-elected evaluation of ``rules`` over the city streams."""

    def __init__(self, client: redis.Redis, connect_db: Callable[[], psycopg.Connection],
                 make_store: Callable[[psycopg.Connection], AlertStore], rules: Sequence[Rule],
                 config: EvaluatorConfig, ctx: ParseContext, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.client = client
        self.group = ConsumerGroup(client, config.group, CONSUMER, config.shard_streams, config.batch,
                                   config.db_retry_max_s, "alerts: Redis")  # fmt: skip
        self.config = config
        self.ctx = ctx
        self.rules = list(rules)
        self.clock = clock
        self.sleep = sleep  # every wait of the worker (lingers, followers' ticks, outages): tests record them
        self.identity = uuid.uuid4().hex  # who holds the lease: this process, not a reusable name
        self.evaluator: Evaluator | None = None
        self.connect_db = connect_db
        self._next_baselines = 0.0  # monotonic time of the next load of anomaly baselines
        self._baselines_aside: tuple[list[Rule], list, threading.Thread] | None = None  # a load in its thread
        self._baselines_again = False  # asked for while a load was in its thread
        self.db = Reconnecting(lambda: make_store(connect_db()), _close_store, DB_OUTAGES, config.db_retry_max_s,
                               "alerts: database", lambda seconds: self.sleep(seconds))  # fmt: skip
        readings = reading_filter(self.rules)
        self._unwanted = {"iot": readings.unwanted} if readings is not None else {}
        self._next_tick = 0.0
        self._places: dict[str, Place] = {}
        self._refused_said = 0  # records of new subjects past the cap, as last logged
        self._next_refused_log = 0.0
        self.device_history = DeviceHistory(self.db, connect_db, config.hours_write_s)
        self.metrics = evaluator_metrics()

    def run(self, should_stop: Callable[[], bool]) -> None:
        """Evaluate while leader, until ``should_stop()``; the lease is released on the way out."""
        self.ensure_groups()
        try:
            while not should_stop():
                if not self._redis(self._lead):
                    self._hand_over_hours()
                    self.evaluator = None
                    self.metrics.leader.set(0)
                    self.sleep(self.config.tick_s)
                    continue
                self.metrics.leader.set(1)
                if self.evaluator is None:
                    self._become_leader()
                self.step()
        finally:
            self.metrics.leader.set(0)
            self._hand_over_hours()
            self._redis(lambda: self.client.eval(RELEASE, 1, self.config.lease_key, self.identity))
            self.db.close()

    def step(self) -> None:
        """One read (blocking until the next tick at most), then the tick if it is due.

        After a read short of a full batch it lingers (``linger_ms``, a few ms against an alert budget of a
        second) so the next read finds more: below full load this was most of the evaluator's CPU."""
        wait_ms = max(1, int((self._next_tick - time.monotonic()) * 1000))
        entries = self.group.read_new(block_ms=wait_ms)
        if entries:
            self._handle(entries)
            if self.config.linger_ms and short_read(entries, self.config.batch):
                self.sleep(self.config.linger_ms / 1000)
        if time.monotonic() >= self._next_tick:
            self._next_tick = time.monotonic() + self.config.tick_s
            # Entries delivered to us whose reply never arrived (the connection cut after Redis answered) are
            # pending on us, and no read of new entries returns them: judge them now, not at the next leader.
            for lost in self.group.own_pending():
                self._handle(lost)
            now = self.clock()
            self._apply(self.evaluator.tick(now))
            self._revise(self.evaluator.take_revisions())
            self.db.run(lambda store: store.sweep_incidents(datetime.fromtimestamp(now, UTC)))
            self._say_refused()
            if self.evaluator.device_hours is not None:
                self.device_history.write(self.evaluator.device_hours)
            if self.device_history.added.is_set():
                self.device_history.added.clear()
                self._next_baselines = 0.0
            if time.monotonic() >= self._next_baselines:
                self._refresh_baselines_aside()
            self._take_baselines()

    def refresh_baselines(self) -> bool:
        """Load every anomaly rule's baselines on a connection of its own, now, and hand them to the evaluator;
        returns whether all loaded. Used when leading starts (before any reading is judged); the hourly refreshes
        run aside (``_refresh_baselines_aside``).

        A database away only postpones it (``baseline_retry_s``): the rules keep the baselines they had, and the
        evaluator goes on judging everything else. It is not retried in a loop as storing conditions is, because
        a baseline an hour old is still the right one."""
        rules = self.evaluator.anomaly_rules() if self.evaluator is not None else []
        return self._hand_baselines(rules, self._load_all_baselines(rules))

    def _refresh_baselines_aside(self) -> None:
        """Load the baselines in a thread of its own; ``_take_baselines`` hands them over at a later tick. A
        per-device rule's load reads hundreds of thousands of device-hours (1.4-1.7 s for 10,000 devices,
        docs/BENCHMARKS.md): on the evaluator's thread that was a pause of every alert once an hour."""
        rules = self.evaluator.anomaly_rules() if self.evaluator is not None else []
        if not rules:
            self._next_baselines = float("inf")
            return
        self._next_baselines = float("inf")  # until this load is taken
        if self._baselines_aside is not None:  # one load at a time: this one is asked again once that is taken
            self._baselines_again = True
            return
        result: list = []
        self._baselines_aside = (rules, result, threading.Thread(
            target=lambda: result.append(self._load_all_baselines(rules)), name="alerts-baselines", daemon=True))
        self._baselines_aside[2].start()

    def _take_baselines(self) -> None:
        """Hand over the baselines a thread has loaded, once it has finished (on the evaluator's thread)."""
        if self._baselines_aside is None or self._baselines_aside[2].is_alive():
            return
        rules, result, _thread = self._baselines_aside
        self._baselines_aside = None
        self._hand_baselines(rules, result[0] if result else None)
        if self._baselines_again:  # the back-fill wrote history while it loaded
            self._baselines_again = False
            self._next_baselines = 0.0

    def _load_all_baselines(self, rules: Sequence[Rule]) -> dict | None:
        """Rule id → baselines of every rule that loaded; None when the database was away (logged, counted)."""
        if not rules:
            return {}
        now = datetime.fromtimestamp(self.clock(), UTC)
        try:
            with self.connect_db() as conn:
                return {rule.id: baselines for rule in rules
                        if (baselines := self._load_baselines(conn, rule, now)) is not None}  # fmt: skip
        except DB_OUTAGES as exc:
            log.warning("alerts: anomaly baselines not loaded (%s); the rules keep the ones they had, next try in "
                        "%.0f s", str(exc).strip()[:200], self.config.baseline_retry_s)  # fmt: skip
            self.metrics.baseline_failures.inc()
            return None

    def _hand_baselines(self, rules: Sequence[Rule], loaded: dict | None) -> bool:
        """Give the evaluator what loaded and set the next load; returns whether every rule loaded."""
        if not rules:
            self._next_baselines = float("inf")
            return True
        if loaded is None:
            self._next_baselines = time.monotonic() + self.config.baseline_retry_s
            return False
        if self.evaluator is not None:
            for rule_id, baselines in loaded.items():
                self.evaluator.set_baselines(rule_id, baselines)
        self._next_baselines = time.monotonic() + self.config.baseline_refresh_s
        log.info("alerts: anomaly baselines loaded: %s", ", ".join(f"{rule_id} {len(b)} subject-hours"
                                                                   for rule_id, b in loaded.items()))  # fmt: skip
        return len(loaded) == len(rules)

    def _load_baselines(self, conn: psycopg.Connection, rule: Rule, now: datetime):
        """One rule's baselines; None when a per-device rule's would pass the cap (it keeps the ones it had)."""
        if rule.subject != "device":
            return load_baselines(conn, rule, now, self.config.timezone)
        try:
            return load_device_baselines(conn, rule, now, self.config.timezone, self.config.baseline_refresh_s)
        except TooManyDeviceHours as refused:
            log.error("alerts: anomaly baselines not loaded: %s", refused)
            self.metrics.baseline_failures.inc()
            return None

    def _hand_over_hours(self) -> None:
        """Leading ends: the hours still open are written as they are (partial: the next leader adds the rest)."""
        hours = self.evaluator.device_hours if self.evaluator is not None else None
        if hours is not None:
            hours.close_all()
            self.device_history.write(hours, force=True)

    def _say_refused(self) -> None:
        """Once a minute at most, say that rules left records of new subjects unjudged (a flood of new ids)."""
        if time.monotonic() < self._next_refused_log:
            return
        refused = self.evaluator.refused_new()
        total = sum(refused.values())
        if total > self._refused_said:
            self._next_refused_log = time.monotonic() + 60
            log.warning("alerts: %d records of new subjects not judged so far (over the cap of new subjects a "
                        "minute, IOC_INGEST_NEW_*), by rule: %s", total, refused)  # fmt: skip
            self._refused_said = total

    def ensure_groups(self) -> None:
        """Create the group on every stream at its end: alerts are about what happens from now on."""
        self.group.ensure(first_id="$")

    def _lead(self) -> bool:
        key, ms = self.config.lease_key, self.config.lease_ms
        if self.client.set(key, self.identity, nx=True, px=ms):
            return True
        return bool(self.client.eval(RENEW, 1, key, self.identity, ms))

    def _become_leader(self) -> None:
        log.info("alert evaluator %s leads; %d rules", self.identity[:8], len(self.rules))
        now = self.clock()
        self.evaluator = Evaluator(self.rules, started=now, limits=self.config.limits)
        horizons = self.evaluator.heard_horizons()
        memory = self.db.run(lambda store: _memory(store, horizons))
        for rule_id, subject in memory.open_alerts:
            self.evaluator.assume_firing(rule_id, subject, now)
        for request_id, opened_at, district, category in memory.open_complaints:
            self.evaluator.seed_open_complaint(request_id, opened_at, district, category)
        for device_id, kind, metric, district, last_ts in memory.heard_devices:
            self.evaluator.seed_heard("iot", HeardDevice(device_id, kind, metric, district), last_ts, now)
        for site, last_ts in memory.heard_sites:
            self.evaluator.seed_heard("datacenter", HeardSite(site), last_ts, now)
        self.refresh_baselines()
        self.device_history.start_backfill([r for r in self.evaluator.anomaly_rules() if r.subject == "device"], now)
        for entries in self.group.own_pending():
            self._handle(entries)  # what the previous leader read but did not acknowledge

    def _handle(self, entries: ShardEntries) -> None:
        # Bad entries are only acknowledged here: the ingest group dead-letters them with the reason.
        read = parse_entries(entries, self.ctx, redelivered=False, unwanted=self._unwanted)
        if self.config.group_incidents:
            self._hear_places(read.batch.readings)
        # The batch's complaint events join incidents in the transaction of its alert changes (incidents/store.py).
        self._apply(self.evaluator.observe_batch(read.batch, self.clock()), read.batch.complaints)
        batch = read.batch
        self.metrics.judged(self.config.streams, {"iot": len(batch.readings), "complaints": len(batch.complaints),
                                                  "datacenter": len(batch.samples)})  # fmt: skip

        def acknowledge() -> None:
            # A new pipeline each attempt: redis-py empties a pipeline whose execute failed, so retrying the same
            # one sent nothing and these entries stayed pending for good (a restarting Redis answers LOADING).
            pipe = self.client.pipeline(transaction=False)
            self.group.ack(pipe, read.ids, entries.shard)
            pipe.execute()

        self._redis(acknowledge)

    def _hear_places(self, readings: Sequence) -> None:
        """Where each device was last heard, for the incident its alert may open or join (bounded like the
        routing cache: a flood of invented ids empties it rather than growing it)."""
        places = self._places
        if len(places) > PLACES_LIMIT:
            places.clear()
        for r in readings:
            places[r.device_id] = Place(r.district, r.lat, r.lon)

    def _apply(self, conditions: list[Condition], complaints: Sequence = ()) -> None:
        if conditions or complaints:
            self.db.run(lambda store: store.apply(conditions, complaints, self._places))
        if conditions:
            self.metrics.raised(conditions)

    def _revise(self, revisions: list[Condition]) -> None:
        """The forecasts of open predicted alerts that moved during the tick, written in one statement (a tick
        refits at most ``FITS_PER_TICK`` subjects per rule, so this is a handful of rows at most)."""
        if revisions:
            self.db.run(lambda store: store.revise(revisions))
            self.metrics.revised(revisions)

    def _redis(self, action: Callable):
        return self.group.call(action)


def _close_store(store: AlertStore) -> None:
    store.conn.close()


class LeaderMemory(NamedTuple):
    """What a new leader must know from the store: open alerts (to resolve them), open complaints (SLA counts),
    and the devices and sites heard recently (so no-data rules know whom to miss), with epoch seconds."""

    open_alerts: list[tuple[str, str]]
    open_complaints: list[tuple[str, float, str, str]]
    heard_devices: list[tuple[str, str, str, str, float]]
    heard_sites: list[tuple[str, float]]


# Per stream kind, the devices or sites the store heard from, with their last time (epoch seconds).
HEARD = {
    "iot": "SELECT device_id, kind, metric, district, extract(epoch FROM ts)::float8 FROM sensor_latest",
    "datacenter": "SELECT site, extract(epoch FROM ts)::float8 FROM datacenter_latest",
}


def _memory(store: AlertStore, horizons: Mapping[str, float]) -> LeaderMemory:
    conn = store.conn
    with conn.transaction():
        alerts = conn.execute("SELECT rule_id, subject FROM alerts WHERE status <> 'resolved'").fetchall()
        complaints = conn.execute(
            "SELECT request_id, extract(epoch FROM opened_at)::float8, district, category FROM complaints"
            " WHERE status <> 'closed'"
        ).fetchall()
        heard = {
            kind: conn.execute(query + " WHERE ts > now() - make_interval(secs => %s)", (horizons[kind],)).fetchall()
            for kind, query in HEARD.items()
            if kind in horizons
        }
    return LeaderMemory(alerts, complaints, heard.get("iot", []), heard.get("datacenter", []))
