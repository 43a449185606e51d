"""Which stream an event goes to when the city streams are sharded over a Redis Cluster (pure).

One Redis node takes about 100,000 readings a second (docs/BENCHMARKS.md); a bigger city spreads its streams over
the masters of a Redis Cluster. A shard is one set of the three city streams sharing a hash tag, ``city:iot:{3}``,
``city:complaints:{3}``, ``city:datacenter:{3}``: the tag puts them in one hash slot, so one XREADGROUP reads all
three and one MULTI acknowledges them. Producers choose the shard from the event's identity (the device, the
request, the site), so one device's readings stay in order on one stream and its natural key never meets itself
on another shard. With one shard (the default) the names stay the single-node names, ``city:iot`` and so on.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

# The field of each stream that chooses the shard: what the event is about (docs/EVENTS.md).
SHARD_FIELD = {"iot": "device_id", "complaints": "request_id", "datacenter": "site"}
MAX_SHARDS = 1024


def shard_of(identity: str | bytes, count: int) -> int:
    """The shard (0 … count-1) of an event about ``identity``: CRC-32 of its UTF-8 bytes, modulo ``count``.

    CRC-32 because any producer in any language has it (``zlib.crc32``, ``java.util.zip.CRC32``, Go's
    ``hash/crc32``) and it is stable across processes, unlike Python's ``hash``."""
    data = identity if isinstance(identity, bytes) else identity.encode()
    return zlib.crc32(data) % count


def sharded_name(stream: str, shard: int) -> str:
    """``city:iot`` of shard 3 → ``city:iot:{3}`` (the braces are the Redis Cluster hash tag)."""
    return f"{stream}:{{{shard}}}"


@dataclass(frozen=True)
class Shards:
    """The city streams (kind → single-node name) laid out over ``count`` shards."""

    base: Mapping[str, str]
    count: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"shards must be 1 … {MAX_SHARDS}, not {self.count}")

    def streams(self, shard: int) -> dict[str, str]:
        """Kind → stream name of one shard."""
        if self.count == 1:
            return dict(self.base)
        return {kind: sharded_name(name, shard) for kind, name in self.base.items()}

    @property
    def each(self) -> list[dict[str, str]]:
        """Every shard's kind → stream name, shard 0 first."""
        return [self.streams(shard) for shard in range(self.count)]

    @property
    def names(self) -> tuple[str, ...]:
        """Every stream of every shard."""
        return tuple(name for shard in self.each for name in shard.values())

    def stream_for(self, kind: str, fields: Mapping[str, object]) -> str:
        """Where a producer writes an event of ``kind`` with ``fields``. An event without its identity field goes
        to shard 0, where ingest dead-letters it as a contract breach like any other."""
        if self.count == 1:
            return self.base[kind]
        identity = fields.get(SHARD_FIELD[kind])
        if not isinstance(identity, (str, bytes)):
            return sharded_name(self.base[kind], 0)
        return sharded_name(self.base[kind], shard_of(identity, self.count))
