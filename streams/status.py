"""What the ingest pipeline is doing, per stream: read from the group info and the workers' counters."""

from __future__ import annotations

import time
from collections.abc import Collection

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


def pipeline_status(client: redis.Redis, streams: Collection[str], group: str) -> dict:
    """The live status of the ingest group on each stream (of every shard)."""
    infos: dict[str, dict] = {}
    for stream in streams:
        try:
            groups = {g["name"]: g for g in client.xinfo_groups(stream)}
            length = client.xlen(stream)
        except redis.ResponseError:
            continue  # the stream does not exist yet
        mine = groups.get(group.encode(), {})
        infos[stream] = {"length": length, "lag": mine.get("lag") or 0, "pending": mine.get("pending", 0)}
    return assemble_status(streams, infos, client.hgetall(f"{group}:stats"), int(time.time() * 1000))
