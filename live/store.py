"""Where the snapshot lives in Redis: one hash per deployment, next to the ingest counters.

``<group>:live`` holds ``version`` (an integer that only grows), ``json`` (the document), ``source_commit_ms``
(the ingest commit it reflects) and ``built_ms``. ``<group>:live:lock`` elects the one builder.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import redis


@dataclass(frozen=True)
class LiveKeys:
    """Redis keys of the live snapshot for one consumer group (one deployment, or one test)."""

    group: str

    @property
    def snapshot(self) -> str:
        return f"{self.group}:live"

    @property
    def lock(self) -> str:
        return f"{self.group}:live:lock"

    @property
    def stats(self) -> str:
        """The ingest workers' counters hash (``last_commit_ms``), written by ``streams.consumer``."""
        return f"{self.group}:stats"


@dataclass(frozen=True)
class Snapshot:
    """A stored snapshot: its version and its document."""

    version: int
    doc: dict


def _int(raw: bytes | None) -> int | None:
    return None if raw is None else int(raw)


def read_version(client: redis.Redis, keys: LiveKeys) -> int | None:
    """The stored snapshot's version (one HGET: what every viewer process polls)."""
    return _int(client.hget(keys.snapshot, "version"))


def read_snapshot(client: redis.Redis, keys: LiveKeys) -> Snapshot | None:
    """The stored snapshot, version and document read together."""
    version, raw = client.hmget(keys.snapshot, ["version", "json"])
    if version is None or raw is None:
        return None
    return Snapshot(int(version), decode(raw))


def build_marks(client: redis.Redis, keys: LiveKeys) -> tuple[int | None, int | None, int | None]:
    """(newest ingest commit, commit the snapshot reflects, when it was built), all epoch ms."""
    pipe = client.pipeline(transaction=False)
    pipe.hget(keys.stats, "last_commit_ms")
    pipe.hmget(keys.snapshot, ["source_commit_ms", "built_ms"])
    commit, (source, built) = pipe.execute()
    return _int(commit), _int(source), _int(built)


def encode(doc: dict, version: int) -> bytes:
    """The stored form of a snapshot document: compact JSON with its version inside."""
    return orjson.dumps({**doc, "version": version})


def decode(raw: bytes) -> dict:
    """A stored snapshot document, as every dashboard process reads each new version."""
    return orjson.loads(raw)


def write_snapshot(client: redis.Redis, keys: LiveKeys, doc: dict, source_commit_ms: int | None, built_ms: int) -> int:
    """Store ``doc`` as the next version (callers hold the build lock); returns that version."""
    version = (read_version(client, keys) or 0) + 1
    client.hset(keys.snapshot, mapping={
        "version": version, "json": encode(doc, version),
        "source_commit_ms": source_commit_ms if source_commit_ms is not None else -1, "built_ms": built_ms,
    })  # fmt: skip
    return version
