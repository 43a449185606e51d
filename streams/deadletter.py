"""The dead-letter entry for a rejected event: its original fields, the reason, and where it came from.

A dead letter keeps the evidence, but what a hostile producer sent must not make the dead-letter stream itself
huge (one entry of many large fields once made a 13 MB dead letter). So a letter is at most ``LETTER_MAX_BYTES``
of names and values in all: the ``dlq_*`` fields always, then the original fields in their order, each name cut
to ``NAME_KEEP_BYTES`` and each value to ``VALUE_KEEP_BYTES``, until the budget is spent. A letter that lost
anything says so: ``dlq_truncated`` = 1, ``dlq_dropped_fields`` (fields left out entirely) and
``dlq_dropped_bytes`` (bytes of names and values left out, cut parts included).

``read_letter`` is the other way round, for inspecting and replaying (``streams/replay.py``): a letter from the
stream back to the entry's own fields and what the IOC said about it, refusing anything the IOC would not have
written (a letter is data someone with write access to the stream may have forged).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

LETTER_MAX_BYTES = 65_536
# Enough to show what a field was: twice the default field limit of a value, and past the 256-byte limit of an
# extra field's name.
VALUE_KEEP_BYTES = 8192
NAME_KEEP_BYTES = 1024
# Our own reasons are a sentence; this only guards the budget should one ever quote more.
REASON_KEEP_BYTES = 1024
# Room kept for the truncation marks themselves, so they never push a letter over its budget.
MARKS_BYTES = 96

# What the IOC writes into a letter beside the entry's own fields; a producer's field of one of these names is left
# out of the letter, so nobody can forge a reason, a source or a truncation mark.
ABOUT_FIELDS = (b"dlq_reason", b"dlq_code", b"dlq_stream", b"dlq_id", b"dlq_at_ms")
MARK_FIELDS = (b"dlq_truncated", b"dlq_dropped_fields", b"dlq_dropped_bytes")
LETTER_FIELDS = frozenset(ABOUT_FIELDS + MARK_FIELDS)
# What a replay adds to the entry it puts back on its stream: the id the entry first had (so the replay is stored
# under it, and a second replay of the same letter is a duplicate, not a second row) and how often it was replayed.
REPLAY_OF = b"dlq_replay_of"
REPLAYS = b"dlq_replays"
REPLAY_FIELDS = frozenset({REPLAY_OF, REPLAYS})
ENTRY_ID = re.compile(rb"[0-9]{1,20}-[0-9]{1,20}")
MAX_REPLAYS = 1_000_000


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
    small = sum(map(len, fields)) + sum(map(len, fields.values())) <= NAME_KEEP_BYTES
    if small and fields.keys().isdisjoint(LETTER_FIELDS):
        return {**fields, **about}  # the common case, checked in C: a malformed entry of ordinary size, whole
    kept: dict[bytes, bytes] = {}
    dropped_fields = dropped_bytes = 0
    for key, value in fields.items():
        name = key[:NAME_KEEP_BYTES]
        if name in LETTER_FIELDS or name in kept or len(name) >= room:
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



class BadLetter(ValueError):
    """A dead-letter entry the IOC would not have written; the message says what is wrong with it."""


@dataclass(frozen=True)
class Letter:
    """One dead letter, read back: the entry's own fields and what the IOC said about it."""

    letter_id: str  # its id on the dead-letter stream
    code: str
    reason: str
    stream: str  # the stream the entry came from
    entry_id: str  # the entry's id there
    original_id: str  # the id the entry first had (``entry_id`` unless the entry was itself a replay)
    at_ms: int
    replays: int  # how often the entry was replayed before this letter was written
    truncated: bool
    fields: dict[bytes, bytes]  # the entry's own fields, as the letter holds them
    size: int  # bytes of names and values of the whole letter


def read_letter(letter_id: bytes, raw: Mapping[bytes, bytes], max_bytes: int = LETTER_MAX_BYTES) -> Letter:
    """The letter ``raw`` (as XRANGE returns it), or ``BadLetter`` saying why it is not one the IOC wrote."""
    size = sum(map(len, raw)) + sum(map(len, raw.values()))
    if size > max_bytes:
        raise BadLetter(f"the letter holds {size:,} bytes; the IOC writes at most {max_bytes:,}")
    missing = [name.decode() for name in (b"dlq_code", b"dlq_stream", b"dlq_id") if not raw.get(name)]
    if missing:
        raise BadLetter(f"no {', '.join(missing)}: not a letter the IOC wrote")
    entry_id = _entry_id(raw[b"dlq_id"], "dlq_id")
    original = _entry_id(raw[REPLAY_OF], REPLAY_OF.decode()) if raw.get(REPLAY_OF) else entry_id
    return Letter(
        letter_id=letter_id.decode(errors="replace"),
        code=_word(raw[b"dlq_code"], "dlq_code", 64),
        reason=raw.get(b"dlq_reason", b"").decode(errors="replace"),
        stream=_word(raw[b"dlq_stream"], "dlq_stream", 256),
        entry_id=entry_id,
        original_id=original,
        at_ms=_count(raw.get(b"dlq_at_ms", b"0"), "dlq_at_ms", 10**15),
        replays=_count(raw.get(REPLAYS, b"0"), REPLAYS.decode(), MAX_REPLAYS),
        truncated=raw.get(b"dlq_truncated") == b"1",
        fields={k: v for k, v in raw.items() if k not in LETTER_FIELDS and k not in REPLAY_FIELDS},
        size=size,
    )


def replay_fields(letter: Letter) -> dict[bytes, bytes]:
    """What a replay puts back on the entry's stream: its own fields, the id it first had, one more replay."""
    return {**letter.fields, REPLAY_OF: letter.original_id.encode(), REPLAYS: str(letter.replays + 1).encode()}


def _entry_id(raw: bytes, name: str) -> str:
    if not ENTRY_ID.fullmatch(raw):
        raise BadLetter(f"{name} {raw[:40]!r} is not a stream entry id")
    return raw.decode()


def _word(raw: bytes, name: str, limit: int) -> str:
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise BadLetter(f"{name} is not UTF-8") from None
    if len(raw) > limit or not text.isprintable():
        raise BadLetter(f"{name} {raw[:40]!r} is not a name the IOC writes")
    return text


def _count(raw: bytes, name: str, limit: int) -> int:
    if not raw.isdigit() or len(raw) > 20 or int(raw) > limit:
        raise BadLetter(f"{name} {raw[:40]!r} is not a count")
    return int(raw)


def shown(raw: bytes, limit: int) -> str:
    """``raw`` as text safe to print or put on a page: at most ``limit`` characters, bytes that are not UTF-8 and
    control characters (a terminal's escape sequences) written as escapes, and how much was left out."""
    complete = len(raw) <= limit * 4  # a character is at most 4 bytes: past that, the text is cut anyway
    text = raw[: limit * 4].decode(errors="backslashreplace")
    safe = "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode() for c in text)
    if complete and len(safe) <= limit:
        return safe
    return f"{safe[:limit]}… ({len(raw):,} bytes in all)"
