"""One consumer of a Redis consumer group over the streams it serves: set-up, read, claim, acknowledge.

The ingest worker (``streams/consumer.py``) and the alert evaluator (``alerts/worker.py``) both read the city
streams through this one reader, so what a group needs on more than one stream (today one stream per event kind;
later one per shard) is written once. Every call waits out a Redis outage with back-off (``streams/backoff.py``)
instead of crashing the worker; what to do with the entries (store, evaluate) and when to acknowledge them stays
with the caller.

Entries come back keyed by event kind (``"iot"``, …) as the parsers want them; the kind ↔ stream mapping is kept
here only (``kind_of``, ``stream_of``), so sharded streams change this module, not its callers' loops.

The decisions are pure functions below the class (what a short read is, when a claim scan is done, which consumers
to forget); the class is the thin I/O around them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar

import redis

from streams.backoff import call_with_backoff
from streams.batching import Entry
from streams.group_read import CLAIM_DONE, autoclaim, entries_by_kind, raw_reader, read_group

REDIS_OUTAGES = (redis.ConnectionError, redis.TimeoutError)
T = TypeVar("T")


class ConsumerGroup:
    """``consumer`` of ``group`` on ``streams`` (event kind → stream name), reading ``batch`` entries at most."""

    def __init__(self, client: redis.Redis, group: str, consumer: str, streams: Mapping[str, str], batch: int,
                 retry_max_s: float, what: str = "Redis") -> None:  # fmt: skip
        self.client = client
        self._reader = raw_reader(client)
        self.group, self.consumer, self.batch = group, consumer, batch
        self.stream_of = dict(streams)
        self.kind_of = {name.encode(): kind for kind, name in streams.items()}
        self.streams = tuple(streams.values())
        self._retry_max_s, self._what = retry_max_s, what
        self._new = dict.fromkeys(self.streams, ">")
        self._own = dict.fromkeys(self.streams, "0")

    def call(self, action: Callable[[], T]) -> T:
        """``action()`` against Redis, waiting out connection loss with back-off instead of crashing."""
        return call_with_backoff(action, REDIS_OUTAGES, self._retry_max_s, self._what)

    def ensure(self, first_id: str) -> None:
        """Create the group on every stream (and the stream if need be), reading from ``first_id`` (``"0"``: all
        of it, ``"$"``: what comes next); a group that exists already is left as it is."""
        for stream in self.streams:
            self.call(lambda s=stream: _create(self.client, s, self.group, first_id))

    def read_new(self, block_ms: int | None) -> dict[str, list[Entry]]:
        """Entries never delivered to the group, waiting up to ``block_ms`` for some (None: not at all)."""
        return self.call(lambda: self._read(self._new, block_ms))

    def own_pending(self) -> Iterator[dict[str, list[Entry]]]:
        """Entries delivered to this consumer name and never acknowledged (it restarted, or a new leader reads as
        the old one), a batch at a time until there are none. Acknowledge each batch before asking for the next:
        the re-read starts from the oldest pending entry again."""
        while entries := self.call(lambda: self._read(self._own, None)):
            yield entries

    def claim_stale(self, min_idle_ms: int) -> Iterator[dict[str, list[Entry]]]:
        """Take over entries pending on other consumers for ``min_idle_ms`` (dead workers), a batch at a time.

        Ids whose data was trimmed away meanwhile are acknowledged here: there is nothing left to handle."""
        for kind, stream in self.stream_of.items():
            cursor: bytes | str = "0-0"
            while True:
                cursor, entries, deleted = self.call(lambda s=stream, c=cursor: autoclaim(
                    self._reader, s, self.group, self.consumer, min_idle_ms, c, self.batch))  # fmt: skip
                if deleted:
                    self.call(lambda s=stream, d=deleted: self.client.xack(s, self.group, *d))
                if entries:
                    yield {kind: entries}
                if claim_done(cursor):
                    break

    def ack(self, pipe: redis.client.Pipeline, ids: Mapping[str, list[bytes]]) -> None:
        """Queue the acknowledgement of ``ids`` (by kind) on ``pipe``, so it commits with the caller's own writes."""
        for kind, kind_ids in ids.items():
            if kind_ids:
                pipe.xack(self.stream_of[kind], self.group, *kind_ids)

    def keep_fresh(self, entries: Mapping[str, list[Entry]]) -> None:
        """Re-claim our own entries: their idle time starts again, so other consumers do not take them over while
        we only wait (for the database)."""
        for kind, kind_entries in entries.items():
            ids = [entry_id for entry_id, _ in kind_entries]
            self.call(lambda s=self.stream_of[kind], i=ids: self.client.xclaim(
                s, self.group, self.consumer, 0, i, justid=True))  # fmt: skip

    def forget_idle_consumers(self, idle_ms: int) -> None:
        """Delete consumers of the group that hold nothing and were idle ``idle_ms`` (long-gone processes)."""
        for stream in self.streams:
            infos = self.call(lambda s=stream: self.client.xinfo_consumers(s, self.group))
            for name in idle_consumers(infos, idle_ms, self.consumer):
                self.call(lambda s=stream, n=name: self.client.xgroup_delconsumer(s, self.group, n))

    def _read(self, starts: dict[str, str], block_ms: int | None) -> dict[str, list[Entry]]:
        reply = read_group(self._reader, self.group, self.consumer, starts, self.batch, block_ms)
        return entries_by_kind(reply, self.kind_of)


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
