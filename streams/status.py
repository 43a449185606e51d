"""What the ingest pipeline is doing, per stream: read from the group info and the workers' counters."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

import redis


def assemble_status(streams: Collection[str], infos: dict[str, dict], stats: dict[bytes, bytes], now_ms: int) -> dict:
    """Rows for the pipeline page from XINFO (length, lag, pending) and the stats hash (pure)."""
    counters = {k.decode(): int(v) for k, v in stats.items()}
    rows = []
    for stream in streams:
        info = infos.get(stream, {})
        rows.append({
            "stream": stream, "length": info.get("length", 0), "lag": info.get("lag", 0),
            "pending": info.get("pending", 0), "parsed": counters.get(f"{stream}:parsed", 0),
            "rejected": counters.get(f"{stream}:rejected", 0),
            # entries of new device ids, sites or request ids past the per-minute cap (streams/admission.py)
            "too_many_new": counters.get(f"{stream}:rejected:too_many_new", 0),
        })  # fmt: skip
    last = counters.get("last_commit_ms")
    return {"streams": rows, "last_commit_age_s": None if last is None else max(0.0, (now_ms - last) / 1000),
            "forgotten_devices": counters.get("forgotten_devices", 0)}


def group_facts(client: redis.Redis, streams: Sequence[str], group: str) -> dict[str, dict]:
    """Per stream that exists: its ``length``, and ``group``'s ``lag`` and ``pending`` (``None`` both when the
    group was never created). One pipelined round trip (one per node on a cluster), whatever the shards: the
    pipeline page and /readyz ask for every stream of every shard."""
    with client.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xinfo_groups(stream)
            pipe.xlen(stream)
        replies = pipe.execute(raise_on_error=False)
    facts: dict[str, dict] = {}
    for stream, groups, length in zip(streams, replies[0::2], replies[1::2], strict=True):
        if isinstance(groups, redis.ResponseError):
            continue  # the stream does not exist yet
        for reply in (groups, length):
            if isinstance(reply, Exception):
                raise reply  # a lost connection is the caller's to report, as without the pipeline
        mine = next((g for g in groups if g["name"] in (group, group.encode())), None)
        facts[stream] = {"length": int(length), "lag": None if mine is None else mine.get("lag"),
                         "pending": None if mine is None else mine.get("pending", 0)}  # fmt: skip
    return facts


def pipeline_status(client: redis.Redis, streams: Sequence[str], group: str) -> dict:
    """The live status of the ingest group on each stream (of every shard)."""
    infos = {stream: {"length": f["length"], "lag": f["lag"] or 0, "pending": f["pending"] or 0}
             for stream, f in group_facts(client, streams, group).items()}  # fmt: skip
    return assemble_status(streams, infos, client.hgetall(f"{group}:stats"), int(time.time() * 1000))
