"""Keep each stream's memory bounded without ever dropping an entry some consumer group still needs.

The safe point of a stream is the oldest entry any of its groups has not acknowledged: for each group, its
oldest pending entry if it has any, else the entry after the last one delivered to it. ``XTRIM MINID`` to that
point (approximate, so Redis drops whole nodes only, never past the point) removes only acknowledged history.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger(__name__)


def parse_id(entry_id: bytes | str) -> tuple[int, int]:
    """A stream id as (milliseconds, sequence)."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def safe_trim_point(groups: list[dict]) -> tuple[int, int] | None:
    """The oldest id still needed by any group, or None when no group reads the stream (then keep all).

    Each group is ``{"last_delivered": id, "oldest_pending": id or None}``.
    """
    needed = []
    for group in groups:
        if group["oldest_pending"] is not None:
            needed.append(parse_id(group["oldest_pending"]))
        else:
            ms, seq = parse_id(group["last_delivered"])
            needed.append((ms, seq + 1))
    return min(needed) if needed else None


def trim_stream(client: redis.Redis, stream: str) -> int:
    """Trim ``stream`` up to its safe point; returns the number of entries removed."""
    try:
        infos = client.xinfo_groups(stream)
    except redis.ResponseError:
        return 0  # no such stream yet
    groups = []
    for info in infos:
        name = info["name"]
        oldest = None
        if info["pending"]:
            summary = client.xpending(stream, name)
            oldest = summary["min"]
        groups.append({"last_delivered": info["last-delivered-id"], "oldest_pending": oldest})
    point = safe_trim_point(groups)
    if point is None:
        return 0
    removed = client.xtrim(stream, minid=f"{point[0]}-{point[1]}", approximate=True)
    if removed:
        log.debug("trimmed %d acknowledged entries from %s", removed, stream)
    return removed
