"""The ingest worker: read a batch from the city streams, parse, commit to TimescaleDB, then acknowledge.

Nothing is acknowledged before it is committed. A worker that dies leaves its entries pending; another worker
claims them (XAUTOCLAIM) once they have been idle for ``claim_idle_ms`` and the store's idempotent path keeps
them from becoming second rows. With the database down the worker holds its batch, backs off and retries; it
reads nothing new meanwhile and keeps its pending entries fresh so nobody else claims them for nothing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter

import psycopg
import redis
from redis.cluster import RedisCluster

from storage import policies
from storage.event_store import Batch, EventStore, WriteResult
from streams.admission import IDENTITY, TOO_MANY_NEW, Caps, NewIdCap, split_new
from streams.backoff import Reconnecting
from streams.batching import BATCH_FIELD, ParsedRead, Rejected, parse_entries
from streams.consumer_group import ConsumerGroup, ShardEntries, short_read
from streams.deadletter import dead_letter
from streams.fields import ParseContext, as_mapping
from streams.metrics import ingest_metrics
from streams.trim import trim_stream

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600.0
STALE_CONSUMER_MS = 3_600_000
# What ingest waits out with back-off instead of crashing: a lost server, and a table not (yet) there.
DB_OUTAGES = (psycopg.OperationalError, psycopg.InterfaceError, psycopg.errors.UndefinedTable)


@dataclass(frozen=True)
class IngestConfig:
    """What a worker needs from the settings."""

    streams: dict[str, str]  # kind → stream name (single-node names: metric labels, the new-identity caps)
    group: str
    deadletter_stream: str
    deadletter_maxlen: int
    batch: int
    block_ms: int
    claim_idle_ms: int
    housekeeping_interval_s: float
    db_retry_max_s: float
    retention: policies.Retention
    linger_ms: int = 0
    # New identities admitted per stream kind and minute (streams/admission.py); empty: no cap.
    new_per_minute: dict[str, int] = field(default_factory=dict)
    # Devices and sites silent this long leave current state (None: kept for ever).
    forget_after: timedelta | None = None
    # Each shard's kind → stream name (streams/shards.py); None: one shard, ``streams`` itself.
    shards: tuple[dict[str, str], ...] | None = None

    @property
    def shard_streams(self) -> tuple[dict[str, str], ...]:
        return self.shards or (self.streams,)

    @property
    def stats_key(self) -> str:
        """Redis hash of ingest counters (inserted, duplicates, rejected by code, per stream)."""
        return f"{self.group}:stats"


class IngestWorker:
    """One consumer of the group; run several (processes or hosts) to share the load."""

    def __init__(self, client: redis.Redis, connect_db: Callable[[], psycopg.Connection], config: IngestConfig,
                 ctx: ParseContext, consumer: str, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 wall: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.client = client
        self.group = ConsumerGroup(client, config.group, consumer, config.shard_streams, config.batch,
                                   config.db_retry_max_s)  # fmt: skip
        self.config = config
        self.ctx = ctx
        self.consumer = consumer
        # How the worker tells time and waits (lingers, housekeeping, outages): injectable, so tests can drive it.
        self.monotonic, self.sleep = monotonic, sleep
        self.db = Reconnecting(lambda: EventStore(connect_db()), EventStore.close, DB_OUTAGES, config.db_retry_max_s,
                               "database", lambda seconds: self.sleep(seconds))  # fmt: skip
        self._next_housekeeping = 0.0
        self._next_retention = 0.0
        self.wall = wall  # epoch seconds: the new-identity cap's minute and the forgetting horizon
        caps = Caps(config.new_per_minute) if config.new_per_minute else None
        self.new_ids = NewIdCap(caps, config.group, wall) if caps else None
        self.metrics = ingest_metrics()

    # --- the loop ------------------------------------------------------------------------------------
    def run(self, should_stop: Callable[[], bool]) -> None:
        """Consume until ``should_stop()``; the batches in hand are finished (committed and acked) first.

        Two stages overlap: while a writer thread commits and acknowledges batch N, this thread reads and
        parses batch N+1, so the worker's wait on PostgreSQL is not also idle time for Redis and the parser.
        Batch N+1 is handed over only after N is acknowledged, and housekeeping runs with the writer idle.
        After a read short of a full batch the worker lingers (``linger_ms``) so that the next read finds more:
        below full load, each transaction's fixed cost (commit, state and rollup upserts) is then shared by
        many readings instead of a handful.
        """
        self.ensure_groups()
        self.drain_own_pending()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as writer:
            in_flight: Future | None = None
            while not should_stop():
                if self.monotonic() >= self._next_housekeeping:
                    _finish(in_flight)
                    self.housekeeping()
                read_at = self.monotonic()
                entries = self._read_new()
                if not entries:
                    continue
                read = parse_entries(entries, self.ctx, redelivered=False)
                _finish(in_flight)
                in_flight = writer.submit(self._store_and_acknowledge, read, entries)
                if short_read(entries, self.config.batch):
                    _linger(read_at + self.config.linger_ms / 1000, should_stop, self.monotonic, self.sleep)
            _finish(in_flight)
        self.close()

    def step(self) -> int:
        """Read, store and acknowledge one batch of new entries; returns how many entries it handled."""
        entries = self._read_new()
        if entries:
            self.process(entries, redelivered=False)
        return sum(len(v) for v in entries.values())

    def process(self, entries: ShardEntries, *, redelivered: bool) -> ParsedRead:
        """Parse, commit, then acknowledge (and dead-letter) the entries of one read."""
        read = parse_entries(entries, self.ctx, redelivered=redelivered)
        self._store_and_acknowledge(read, entries)
        return read

    def _store_and_acknowledge(self, read: ParsedRead, entries: ShardEntries) -> None:
        if self.new_ids is not None:
            self._cap_new_identities(read, entries)
        result, db_rejected = self._commit(read.batch, entries)
        read.rejected.extend(db_rejected)
        rejected = self._acknowledge(read, result, entries.shard)
        stored = Counter(_counts(read.batch))
        stored.subtract(bad.kind for bad in db_rejected)
        self.metrics.handled(self.config.streams, {kind: len(e) for kind, e in entries.items()}, stored, rejected,
                             result.duplicates)  # fmt: skip

    def _cap_new_identities(self, read: ParsedRead, entries: ShardEntries) -> None:
        """Move entries of new identities past this minute's cap out of the batch, into the dead letters."""
        cap = self.new_ids
        for kind, attr in BATCH_FIELD.items():
            records = getattr(read.batch, attr)
            if not records:
                continue
            unknown = cap.unknown(kind, records)
            if not unknown:
                continue
            found = self._with_db(lambda store, k=kind, u=unknown: store.known(k, u), keep_fresh=entries)
            cap.remember(kind, found)
            new = [i for i in unknown if i not in found]
            if not new:
                continue
            stream, asked = self.config.streams[kind], len(new)
            granted = self._call_redis(lambda k=kind, s=stream, n=asked: cap.grant(self.client, k, s, n))
            known_here = set(map(attrgetter(IDENTITY[kind]), records)).difference(new)
            kept, over, admitted = split_new(records, kind, known_here, granted)
            cap.remember(kind, admitted)
            if over:
                setattr(read.batch, attr, kept)
                fields_of = dict(entries[kind])
                reason = cap.caps.reason(kind)
                read.rejected.extend(
                    Rejected(kind, r.source_id.encode(), as_mapping(fields_of[r.source_id.encode()]), TOO_MANY_NEW,
                             reason)
                    for r in over
                )  # fmt: skip
                log.warning("%s: %d entries of new %s past the cap of %d a minute", stream, len(over),
                            IDENTITY[kind], cap.caps.per_minute[kind])  # fmt: skip

    def close(self) -> None:
        """Release the database connection."""
        self.db.close()

    # --- Redis ---------------------------------------------------------------------------------------
    def ensure_groups(self) -> None:
        """Create the consumer group on every stream (from the start, so earlier entries are ingested too)."""
        self.group.ensure(first_id="0")

    def _read_new(self) -> ShardEntries:
        return self.group.read_new(self.config.block_ms)

    def drain_own_pending(self) -> None:
        """Re-process entries this consumer name read before a restart but never acknowledged."""
        for entries in self.group.own_pending():
            self.process(entries, redelivered=True)

    def claim_stale(self) -> int:
        """Take over entries left pending by dead workers; returns how many were processed."""
        handled = 0
        for claimed in self.group.claim_stale(self.config.claim_idle_ms):
            for kind, kind_entries in claimed.items():
                log.info("claimed %d stale entries from %s", len(kind_entries), self.group.stream(kind, claimed.shard))
                handled += len(kind_entries)
            self.process(claimed, redelivered=True)
        return handled

    def housekeeping(self) -> None:
        """Claim stale entries, trim acknowledged history, forget long-gone consumers, apply retention."""
        self._next_housekeeping = self.monotonic() + self.config.housekeeping_interval_s
        self.claim_stale()
        self.group.forget_idle_consumers(STALE_CONSUMER_MS)
        for stream in self.group.streams:
            self._call_redis(lambda s=stream: trim_stream(self.client, s))
            self._call_redis(lambda s=stream: self.metrics.groups(s, self.client.xinfo_groups(s)))
        if self.monotonic() >= self._next_retention:
            self._next_retention = self.monotonic() + RETENTION_EVERY_S
            self._with_db(lambda store: store.drop_expired(self.config.retention))
            self.forget_silent()

    def forget_silent(self) -> tuple[int, int]:
        """Devices and sites silent past ``forget_after`` leave current state; returns (device rows, sites)."""
        if self.config.forget_after is None:
            return 0, 0
        before = datetime.fromtimestamp(self.wall(), UTC) - self.config.forget_after
        devices, sites = self._with_db(lambda store: store.forget_silent(before))
        if devices or sites:
            log.info("forgot %d device readings and %d sites silent since %s", devices, sites, before.isoformat())
            if self.new_ids is not None:
                self.new_ids.forget_all()
            self._call_redis(lambda: self.client.hincrby(self.config.stats_key, "forgotten_devices", devices))
        return devices, sites

    def _acknowledge(self, read: ParsedRead, result: WriteResult, shard: int) -> Counter[tuple[str, str]]:
        """Dead-letter, acknowledge and count one committed batch of ``shard``; returns the rejected entries by
        (stream, code).

        On one Redis it is one transaction. On a Redis Cluster the dead letters and counters live on other masters
        than the shard's streams, and no transaction spans masters: they are written first, and the
        acknowledgement follows only once they are, so a worker dying in between leaves its entries pending (to be
        dead-lettered and counted a second time by whoever claims them) but never acknowledged and lost. Each
        step is retried on its own through an outage or a failover (a transaction whose slot moved to a promoted
        replica is refused whole with MOVED), so a retried acknowledgement never counts the batch twice."""
        now_ms = int(time.time() * 1000)
        if not isinstance(self.client, RedisCluster):

            def in_one_transaction() -> Counter[tuple[str, str]]:
                pipe = self.client.pipeline(transaction=True)
                rejected = self._count_and_dead_letter(pipe, read, result, shard, now_ms)
                self.group.ack(pipe, read.ids, shard)
                pipe.execute()
                return rejected

            return self._call_redis(in_one_transaction)

        def bookkeeping() -> Counter[tuple[str, str]]:
            pipe = self.client.pipeline(transaction=False)
            rejected = self._count_and_dead_letter(pipe, read, result, shard, now_ms)
            pipe.execute()
            return rejected

        def acknowledgement() -> None:
            pipe = self.client.pipeline(transaction=True)  # the shard's streams share one hash slot
            self.group.ack(pipe, read.ids, shard)
            pipe.execute()

        rejected = self._call_redis(bookkeeping)
        self._call_redis(acknowledgement)
        return rejected

    def _count_and_dead_letter(self, pipe, read: ParsedRead, result: WriteResult, shard: int,
                               now_ms: int) -> Counter[tuple[str, str]]:  # fmt: skip
        """Queue the batch's dead letters and counters on ``pipe``; returns the rejected entries by (stream, code)."""
        stats = self.config.stats_key
        # Counted and logged per stream and code, not per entry: a producer sending 100,000 malformed entries
        # must not cost 200,000 counter commands and 100,000 log lines (bench/hostile_ingest.py).
        rejected: Counter[tuple[str, str]] = Counter()
        for bad in read.rejected:
            stream = self.group.stream(bad.kind, shard)
            if not rejected[stream, bad.code] and bad.code != TOO_MANY_NEW:  # the cap logs its own flood
                log.warning("dead-lettered %s %s: %s", stream, bad.entry_id.decode(), bad.reason)
            rejected[stream, bad.code] += 1
            pipe.xadd(self.config.deadletter_stream,
                      dead_letter(bad.fields, stream=stream, entry_id=bad.entry_id, code=bad.code,
                                  reason=bad.reason, at_ms=now_ms),
                      maxlen=self.config.deadletter_maxlen, approximate=True)  # fmt: skip
        for (stream, code), n in rejected.items():
            pipe.hincrby(stats, f"{stream}:rejected", n)
            pipe.hincrby(stats, f"{stream}:rejected:{code}", n)
            if n > 1 and code != TOO_MANY_NEW:
                log.warning("dead-lettered %d more %s entries of %s in this batch", n - 1, code, stream)
        for kind, count in _counts(read.batch).items():
            pipe.hincrby(stats, f"{self.group.stream(kind, shard)}:parsed", count)
        pipe.hincrby(stats, f"consumer:{self.consumer}", sum(len(ids) for ids in read.ids.values()))
        pipe.hincrby(stats, "inserted", result.inserted)
        pipe.hincrby(stats, "duplicates", result.duplicates)
        pipe.hset(stats, "last_commit_ms", now_ms)
        return rejected

    def _call_redis(self, action: Callable):
        """Run a Redis action, waiting out connection loss with back-off instead of crashing."""
        return self.group.call(action)

    # --- database ------------------------------------------------------------------------------------
    def _commit(self, batch: Batch, entries: ShardEntries) -> tuple[WriteResult, list[Rejected]]:
        """Commit the batch, retrying through outages; entries the database itself refuses are split out."""
        if not len(batch):
            return WriteResult(0, 0), []
        try:
            return self._with_db(lambda store: self._timed_write(store, batch), keep_fresh=entries), []
        except (psycopg.DataError, psycopg.IntegrityError) as refused:
            return self._bisect(batch, entries, refused)

    def _timed_write(self, store: EventStore, batch: Batch) -> WriteResult:
        started = time.perf_counter()
        result = store.write(batch)
        self.metrics.commit.observe(time.perf_counter() - started)
        return result

    def _bisect(self, batch: Batch, entries, refused: Exception) -> tuple[WriteResult, list[Rejected]]:
        records = [("iot", r) for r in batch.readings] + [("complaints", c) for c in batch.complaints]
        records += [("datacenter", s) for s in batch.samples]
        if len(records) == 1:
            kind, record = records[0]
            entry_id = record.source_id.encode()
            fields = as_mapping(next(f for i, f in entries[kind] if i == entry_id))
            return WriteResult(0, 0), [
                Rejected(kind, entry_id, fields, "db_refused", f"database refused: {refused}"[:500])
            ]
        half = len(records) // 2
        inserted = duplicates = 0
        rejected: list[Rejected] = []
        for part in (records[:half], records[half:]):
            sub = Batch(redelivered=batch.redelivered)
            for kind, record in part:
                {"iot": sub.readings, "complaints": sub.complaints, "datacenter": sub.samples}[kind].append(record)
            result, bad = self._commit(sub, entries)
            inserted, duplicates = inserted + result.inserted, duplicates + result.duplicates
            rejected += bad
        return WriteResult(inserted, duplicates), rejected

    def _with_db(self, action: Callable[[EventStore], object], keep_fresh: ShardEntries | None = None):
        """``action(store)`` through database outages; meanwhile ``keep_fresh`` entries stay ours."""
        return self.db.run(action, (lambda: self.group.keep_fresh(keep_fresh)) if keep_fresh else None)


def _linger(
    until: float, should_stop: Callable[[], bool], monotonic: Callable[[], float], sleep: Callable[[float], None]
) -> None:
    """Sleep until ``until`` (``monotonic``), in short steps so a stop request is not kept waiting."""
    while not should_stop() and (left := until - monotonic()) > 0:
        sleep(min(left, 0.05))


def _finish(in_flight: Future | None) -> None:
    """Wait for the writer's batch (re-raising what it raised)."""
    if in_flight is not None:
        in_flight.result()


def _counts(batch: Batch) -> dict[str, int]:
    return {"iot": len(batch.readings), "complaints": len(batch.complaints), "datacenter": len(batch.samples)}
