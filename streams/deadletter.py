"""The dead-letter entry for a rejected event: its original fields, the reason, and where it came from.

A dead letter keeps the evidence, but what a hostile producer sent must not make the dead-letter stream itself
huge (one entry of many large fields once made a 13 MB dead letter). So a letter is at most ``LETTER_MAX_BYTES``
of names and values in all: the ``dlq_*`` fields always, then the original fields in their order, each name cut
to ``NAME_KEEP_BYTES`` and each value to ``VALUE_KEEP_BYTES``, until the budget is spent. A letter that lost
anything says so: ``dlq_truncated`` = 1, ``dlq_dropped_fields`` (fields left out entirely) and
``dlq_dropped_bytes`` (bytes of names and values left out, cut parts included).
"""

from __future__ import annotations

from collections.abc import Mapping

LETTER_MAX_BYTES = 65_536
# Enough to show what a field was: twice the default field limit of a value, and past the 256-byte limit of an
# extra field's name.
VALUE_KEEP_BYTES = 8192
NAME_KEEP_BYTES = 1024
# Our own reasons are a sentence; this only guards the budget should one ever quote more.
REASON_KEEP_BYTES = 1024
# Room kept for the truncation marks themselves, so they never push a letter over its budget.
MARKS_BYTES = 96


def dead_letter(
    fields: Mapping[bytes, bytes], *, stream: str, entry_id: bytes, code: str, reason: str, at_ms: int
) -> dict[bytes, bytes]:
    """Fields for the dead-letter stream: the ``dlq_*`` fields beside as much of the original ones as fits."""
    about = {
        b"dlq_reason": reason.encode()[:REASON_KEEP_BYTES],
        b"dlq_code": code.encode(),
        b"dlq_stream": stream.encode(),
        b"dlq_id": entry_id,
        b"dlq_at_ms": str(at_ms).encode(),
    }
    room = LETTER_MAX_BYTES - MARKS_BYTES - sum(map(len, about)) - sum(map(len, about.values()))
    if sum(map(len, fields)) + sum(map(len, fields.values())) <= NAME_KEEP_BYTES and fields.keys().isdisjoint(about):
        return {**fields, **about}  # the common case, checked in C: a malformed entry of ordinary size, whole
    kept: dict[bytes, bytes] = {}
    dropped_fields = dropped_bytes = 0
    for key, value in fields.items():
        name = key[:NAME_KEEP_BYTES]
        if name in about or name in kept or len(name) >= room:
            # A producer's own dlq_* field, a cut name equal to another, or no room left: left out.
            dropped_fields += 1
            dropped_bytes += len(key) + len(value)
            continue
        cut = value[: min(VALUE_KEEP_BYTES, room - len(name))]
        kept[name] = cut
        room -= len(name) + len(cut)
        dropped_bytes += len(key) - len(name) + len(value) - len(cut)
    kept.update(about)
    if dropped_bytes or dropped_fields:
        kept[b"dlq_truncated"] = b"1"
        kept[b"dlq_dropped_fields"] = str(dropped_fields).encode()
        kept[b"dlq_dropped_bytes"] = str(dropped_bytes).encode()
    return kept

