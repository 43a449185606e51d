"""Consumer-group reads with the replies as Redis sent them: entries as ``[id, [name, value, …]]`` lists.

redis-py turns every entry of an XREADGROUP or XAUTOCLAIM reply into a dict in Python; at a batch of 10,000
readings that was more than a third of the cost of reading it. The parsers take the flat lists as they come
(``streams.fields.FlatFields``), so the readers here ask a client on the same connection pool with those two
reply callbacks removed.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis

RAW_COMMANDS = ("XREADGROUP", "XAUTOCLAIM")


def raw_reader(client: redis.Redis) -> redis.Redis:
    """A client sharing ``client``'s connections whose XREADGROUP and XAUTOCLAIM replies are left as sent."""
    reader = redis.Redis(connection_pool=client.connection_pool)
    for command in RAW_COMMANDS:
        reader.response_callbacks.pop(command, None)
    return reader


def read_group(
    reader: redis.Redis, group: str, consumer: str, starts: Mapping[str, str], count: int, block_ms: int | None
) -> object:
    """XREADGROUP from each stream in ``starts`` (stream → ``">"`` or an id); the reply as RESP2 list or RESP3 map."""
    args: list = ["XREADGROUP", "GROUP", group, consumer, "COUNT", count]
    if block_ms is not None:
        args += ["BLOCK", block_ms]
    return reader.execute_command(*args, "STREAMS", *starts.keys(), *starts.values())


def autoclaim(
    reader: redis.Redis, stream: str, group: str, consumer: str, min_idle_ms: int, start: bytes | str, count: int
) -> tuple[bytes, list, list]:
    """XAUTOCLAIM: (the cursor to continue from, the claimed entries, ids whose data was trimmed away)."""
    reply = reader.execute_command("XAUTOCLAIM", stream, group, consumer, min_idle_ms, start, "COUNT", count)
    return reply[0], reply[1], (reply[2] if len(reply) > 2 else [])
