"""Consumer-group commands with the replies as Redis sent them (entries as ``[id, [name, value, …]]`` lists), and
the pure functions that read those replies.

redis-py turns every entry of an XREADGROUP or XAUTOCLAIM reply into a dict in Python; at a batch of 10,000
readings that was more than a third of the cost of reading it. The parsers take the flat lists as they come
(``streams.fields.FlatFields``), so the readers here ask a client on the same connection pool with those two
reply callbacks removed.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis
from redis.cluster import RedisCluster

from streams.batching import Entry

RAW_COMMANDS = ("XREADGROUP", "XAUTOCLAIM")
CLAIM_DONE = (b"0-0", "0-0")  # the XAUTOCLAIM cursor once the whole pending list has been scanned


class RawStreamCluster(RedisCluster):
    """A Redis Cluster client whose XREADGROUP and XAUTOCLAIM replies are left as sent, like ``raw_reader``'s.

    The cluster client parses each reply with the client of the node that answered, made when first needed (and
    again after a failover), so the two callbacks are removed there."""

    def get_redis_connection(self, node):  # noqa: ANN001, ANN201 - redis-py's own signature
        node_client = super().get_redis_connection(node)
        for command in RAW_COMMANDS:
            node_client.response_callbacks.pop(command, None)
        return node_client


def redis_at(url: str, cluster: bool, **options: object) -> redis.Redis | RedisCluster:
    """A client of the Redis at ``url``; with ``cluster`` (IOC_REDIS_CLUSTER), of the Redis Cluster that node
    belongs to, whose stream reads come back as sent. ``options`` are the connections' (timeouts, decoding)."""
    if cluster:
        options.pop("health_check_interval", None)  # the cluster client checks its nodes itself
        return RawStreamCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def raw_reader(client: redis.Redis | RedisCluster) -> redis.Redis | RedisCluster:
    """A client sharing ``client``'s connections whose XREADGROUP and XAUTOCLAIM replies are left as sent."""
    if isinstance(client, RawStreamCluster):
        return client
    if isinstance(client, RedisCluster):
        raise TypeError("stream readers on a Redis Cluster need a RawStreamCluster client (bootstrap.redis_client)")
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
    return claimed(reader.execute_command("XAUTOCLAIM", stream, group, consumer, min_idle_ms, start, "COUNT", count))


def claimed(reply: list) -> tuple[bytes, list, list]:
    """A raw XAUTOCLAIM reply as (cursor, claimed entries, deleted ids); Redis before 7 sends no deleted ids."""
    return reply[0], reply[1], (reply[2] if len(reply) > 2 else [])


def entries_by_kind(reply: object, kind_of: Mapping[bytes, str]) -> dict[str, list[Entry]]:
    """A raw XREADGROUP reply (RESP2 list or RESP3 map) as entries by event kind; streams with none left out."""
    items = reply.items() if isinstance(reply, dict) else (reply or [])
    out: dict[str, list[Entry]] = {}
    for stream, entries in items:
        name = stream if isinstance(stream, bytes) else stream.encode()
        if entries:
            out[kind_of[name]] = entries
    return out
