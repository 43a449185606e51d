"""One consumer of a Redis consumer group over the streams it serves: set-up, read, claim, acknowledge.

The ingest worker (``streams/consumer.py``) and the alert evaluator (``alerts/worker.py``) both read the city
streams through this one reader, so what a group needs on more than one stream (today one stream per event kind;
later one per shard) is written once. Every call waits out a Redis outage with back-off (``streams/backoff.py``)
instead of crashing the worker; what to do with the entries (store, evaluate) and when to acknowledge them stays
with the caller.

Entries come back keyed by event kind (``"iot"``, …) as the parsers want them, with the shard they came from
(``ShardEntries``); the kind ↔ stream mapping of each shard is kept here only (``streams/shards.py`` names them),
so the callers' loops are the same for one Redis and for streams sharded over a Redis Cluster.

The decisions are pure functions below the class (what a short read is, when a claim scan is done, which consumers
to forget); the class is the thin I/O around them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import redis

from streams.backoff import call_with_backoff
from streams.batching import Entry
from streams.group_read import CLAIM_DONE, autoclaim, entries_by_kind, raw_reader, read_group

# What a worker waits out: a lost or restarting server, and on a Redis Cluster a failover in progress (the slots of
# a dead master answer CLUSTERDOWN or TRYAGAIN, or no node serves them, until its replica is promoted).
# AskError (and MovedError, its subclass): a cluster client follows redirections itself, except inside a
# transaction, which a failover refuses whole when the slot has moved; the next attempt goes to the new master.
REDIS_OUTAGES = (redis.ConnectionError, redis.TimeoutError, redis.exceptions.ClusterError,
                 redis.exceptions.TryAgainError, redis.exceptions.SlotNotCoveredError,
                 redis.exceptions.AskError)  # fmt: skip
# With several shards a reader waits on one at a time: this long at most, so an entry arriving on another shard
# waits no longer than this for its reader (a few polls a second of each shard when the city is quiet).
SHARD_BLOCK_MS = 50
T = TypeVar("T")


class ShardEntries(dict):
    """The entries of one read by event kind, all from one shard (``shard``): whoever acknowledges them, or keeps
    them fresh, needs to know which streams they came from."""

    __slots__ = ("shard",)

    def __init__(self, shard: int, entries: Mapping[str, list[Entry]] | None = None) -> None:
        super().__init__(entries or {})
        self.shard = shard


class ConsumerGroup:
    """``consumer`` of ``group`` on the city streams, reading ``batch`` entries at most per stream.

    ``shards`` holds each shard's event kind → stream name (one shard: the single-node streams). One read asks one
    shard: a shard's streams share a hash slot, so a single XREADGROUP serves them even on a Redis Cluster."""

    def __init__(self, client: redis.Redis, group: str, consumer: str, shards: Sequence[Mapping[str, str]],
                 batch: int, retry_max_s: float, what: str = "Redis") -> None:  # fmt: skip
        self.client = client
        self._reader = raw_reader(client)
        self.group, self.consumer, self.batch = group, consumer, batch
        self.shards = [dict(streams) for streams in shards]
        self._kind_of = [{name.encode(): kind for kind, name in streams.items()} for streams in self.shards]
        self.streams = tuple(name for streams in self.shards for name in streams.values())
        self._retry_max_s, self._what = retry_max_s, what
        self._next_shard = 0

    def call(self, action: Callable[[], T]) -> T:
        """``action()`` against Redis, waiting out connection loss with back-off instead of crashing."""
        return call_with_backoff(action, REDIS_OUTAGES, self._retry_max_s, self._what)

    def stream(self, kind: str, shard: int) -> str:
        """The stream of ``kind`` in ``shard``."""
        return self.shards[shard][kind]

    def ensure(self, first_id: str) -> None:
        """Create the group on every stream (and the stream if need be), reading from ``first_id`` (``"0"``: all
        of it, ``"$"``: what comes next); a group that exists already is left as it is."""
        for stream in self.streams:
            self.call(lambda s=stream: _create(self.client, s, self.group, first_id))

    def read_new(self, block_ms: int | None) -> ShardEntries:
        """Entries never delivered to the group, from one shard, waiting up to ``block_ms`` for some (None: not at
        all). With several shards each is asked in turn without waiting, starting after the one that last gave
        entries; only when none has any does the read wait, on one shard and for ``SHARD_BLOCK_MS`` at most, so an
        entry on another shard is not kept waiting behind it."""
        if len(self.shards) == 1:
            return ShardEntries(0, self.call(lambda: self._read(0, ">", block_ms)))
        for shard in shard_order(self._next_shard, len(self.shards)):
            entries = self.call(lambda s=shard: self._read(s, ">", None))
            if entries:
                self._next_shard = (shard + 1) % len(self.shards)
                return ShardEntries(shard, entries)
        shard, self._next_shard = self._next_shard, (self._next_shard + 1) % len(self.shards)
        wait_ms = None if block_ms is None else min(block_ms, SHARD_BLOCK_MS)
        return ShardEntries(shard, self.call(lambda: self._read(shard, ">", wait_ms)))

    def own_pending(self) -> Iterator[ShardEntries]:
        """Entries delivered to this consumer name and never acknowledged (it restarted, or a new leader reads as
        the old one), a batch at a time until there are none. Acknowledge each batch before asking for the next:
        the re-read starts from the oldest pending entry again."""
        for shard in range(len(self.shards)):
            while entries := self.call(lambda s=shard: self._read(s, "0", None)):
                yield ShardEntries(shard, entries)

    def claim_stale(self, min_idle_ms: int) -> Iterator[ShardEntries]:
        """Take over entries pending on other consumers for ``min_idle_ms`` (dead workers), a batch at a time.

        Ids whose data was trimmed away meanwhile are acknowledged here: there is nothing left to handle."""
        for shard, streams in enumerate(self.shards):
            for kind, stream in streams.items():
                cursor: bytes | str = "0-0"
                while True:
                    cursor, entries, deleted = self.call(lambda s=stream, c=cursor: autoclaim(
                        self._reader, s, self.group, self.consumer, min_idle_ms, c, self.batch))  # fmt: skip
                    if deleted:
                        self.call(lambda s=stream, d=deleted: self.client.xack(s, self.group, *d))
                    if entries:
                        yield ShardEntries(shard, {kind: entries})
                    if claim_done(cursor):
                        break

    def ack(self, pipe: redis.client.Pipeline, ids: Mapping[str, list[bytes]], shard: int) -> None:
        """Queue the acknowledgement of ``ids`` (by kind, of ``shard``) on ``pipe``, so it commits with the
        caller's own writes."""
        for kind, kind_ids in ids.items():
            if kind_ids:
                pipe.xack(self.shards[shard][kind], self.group, *kind_ids)

    def keep_fresh(self, entries: ShardEntries) -> None:
        """Re-claim our own entries: their idle time starts again, so other consumers do not take them over while
        we only wait (for the database)."""
        for kind, kind_entries in entries.items():
            stream, ids = self.stream(kind, entries.shard), [entry_id for entry_id, _ in kind_entries]
            self.call(lambda s=stream, i=ids: self.client.xclaim(s, self.group, self.consumer, 0, i, justid=True))

    def forget_idle_consumers(self, idle_ms: int) -> None:
        """Delete consumers of the group that hold nothing and were idle ``idle_ms`` (long-gone processes)."""
        for stream in self.streams:
            infos = self.call(lambda s=stream: self.client.xinfo_consumers(s, self.group))
            for name in idle_consumers(infos, idle_ms, self.consumer):
                self.call(lambda s=stream, n=name: self.client.xgroup_delconsumer(s, self.group, n))

    def _read(self, shard: int, start: str, block_ms: int | None) -> dict[str, list[Entry]]:
        starts = dict.fromkeys(self.shards[shard].values(), start)
        reply = read_group(self._reader, self.group, self.consumer, starts, self.batch, block_ms)
        return entries_by_kind(reply, self._kind_of[shard])


def _create(client: redis.Redis, stream: str, group: str, first_id: str) -> None:
    try:
        client.xgroup_create(stream, group, id=first_id, mkstream=True)
    except redis.ResponseError as exc:
        if not group_exists(exc):
            raise


# --- the decisions (pure) ----------------------------------------------------------------------------------------
def group_exists(error: redis.ResponseError) -> bool:
    """Whether XGROUP CREATE failed only because the group is there already (every worker creates it at start)."""
    return "BUSYGROUP" in str(error)


def shard_order(first: int, count: int) -> list[int]:
    """The shards in the order a reader asks them: from ``first`` round to the one before it."""
    return [(first + i) % count for i in range(count)]


def claim_done(cursor: bytes | str) -> bool:
    """Whether an XAUTOCLAIM scan has gone through the whole pending list."""
    return cursor in CLAIM_DONE


def short_read(entries: Mapping[str, list[Entry]], batch: int) -> bool:
    """Whether a read came back short of a full batch on every stream: the stream had no more, so a reader that
    waits a moment (lingers) finds a larger batch next time. Per read, never per entry."""
    return max(map(len, entries.values()), default=0) < batch


def idle_consumers(infos: Iterable[Mapping], idle_ms: int, me: str) -> list[bytes]:
    """The consumers of XINFO CONSUMERS to forget: none pending, idle over ``idle_ms``, and not ``me``."""
    mine = me.encode()
    return [info["name"] for info in infos
            if info["pending"] == 0 and info["idle"] > idle_ms and info["name"] != mine]  # fmt: skip
