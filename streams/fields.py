"""Validation shared by the stream parsers: one raw Redis entry in, typed values or ``InvalidEvent`` out.

Everything here is pure: the parsers get the entry's fields as bytes (exactly what Redis holds) and a
``ParseContext`` with the city's rules, and either return a record or raise ``InvalidEvent`` whose ``code`` is a
short stable word (counted per stream) and whose message says what was wrong in words an operator can act on.

This is the ingest hot path (100,000 events/s is the target), so values are checked as bytes where that is
exact (``float`` and ``int`` read ASCII bytes), and what repeats from one reading to the next (a sensor's
position and district, its kind and metric words) is validated once and remembered in ``ParseContext.cache``
(a ``ParseCache``, bounded in entries and bytes).

Every entry is first held to its **budget** (``check_budget``): at most ``max_entry_fields`` fields and
``max_entry_bytes`` of names and values together. That check comes before anything else looks at the entry,
decodes it or remembers any part of it, and costs a length comparison and a sum of lengths.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from streams.deadletter import ENTRY_ID, REPLAY_FIELDS, REPLAY_OF
from streams.parse_cache import ParseCache

Fields = Mapping[bytes, bytes]
# An entry's fields as Redis sends them, names and values alternating; the ingest hot path keeps this shape
# because building a dict per entry cost more than a third of reading the batch.
FlatFields = list[bytes]

# Anything earlier is almost surely epoch *seconds* sent where the contract says milliseconds.
EARLIEST_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_TEXT = 256
_IDENT = re.compile(r"[a-z][a-z0-9_]{0,63}")


class InvalidEvent(ValueError):
    """An entry that breaks the event contract (docs/EVENTS.md); it goes to the dead-letter stream."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class DistrictResolver(Protocol):
    """What the parsers need of the city map (geo.city.CityMap provides it)."""

    def district_at(self, lon: float, lat: float) -> str | None: ...

    def normalize_district(self, name: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ParseContext:
    """The city's rules a parser applies, built once per worker from the settings."""

    city: DistrictResolver
    bounds: tuple[float, float, float, float]
    max_field_bytes: int = 4096
    max_future_skew_ms: int = 300_000
    max_entry_fields: int = 64
    max_entry_bytes: int = 16_384
    cache: ParseCache = field(default_factory=ParseCache, compare=False, repr=False)
    # Derived once, for the fast path: a flat entry of at most this many items and bytes is within both budgets
    # and every one of its values within ``max_field_bytes``.
    flat_items: int = field(init=False, compare=False, repr=False)
    fast_bytes: int = field(init=False, compare=False, repr=False)
    # The cache's two tables themselves (the same dict objects for the cache's life), one attribute away.
    layouts: dict = field(init=False, compare=False, repr=False)
    answers: dict = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat_items", 2 * self.max_entry_fields)
        object.__setattr__(self, "fast_bytes", min(self.max_field_bytes, self.max_entry_bytes))
        object.__setattr__(self, "layouts", self.cache.layouts)
        object.__setattr__(self, "answers", self.cache.answers)


def as_mapping(fields: Fields | FlatFields) -> Fields:
    """The entry's fields as a mapping (a flat list is paired up; of repeated names the last wins, as in Redis)."""
    if isinstance(fields, list):
        pairs = iter(fields)
        return dict(zip(pairs, pairs, strict=False))
    return fields


def check_budget(fields: Fields | FlatFields, ctx: ParseContext) -> None:
    """The entry's size within its budget: ``max_entry_fields`` fields (as sent, repeats included) and
    ``max_entry_bytes`` of names and values together. Looks at nothing but lengths."""
    if isinstance(fields, list):
        count = len(fields) // 2
        size = sum(map(len, fields)) if count <= ctx.max_entry_fields else 0
    else:
        count = len(fields)
        size = sum(map(len, fields)) + sum(map(len, fields.values())) if count <= ctx.max_entry_fields else 0
    if count > ctx.max_entry_fields:
        raise InvalidEvent(
            "too_large", f"the entry has {count:,} fields; at most {ctx.max_entry_fields} (IOC_ENTRY_MAX_FIELDS)"
        )
    if size > ctx.max_entry_bytes:
        raise InvalidEvent(
            "too_large",
            f"the entry's field names and values total {size:,} bytes; "
            f"at most {ctx.max_entry_bytes:,} (IOC_ENTRY_MAX_BYTES)",
        )


def checked(fields: Fields | FlatFields, ctx: ParseContext) -> Fields:
    """The entry as a mapping, once within its budget and with every field within ``max_field_bytes`` and
    free of NUL: what each reference parser does first."""
    check_budget(fields, ctx)
    fields = as_mapping(fields)
    check_raw(fields, ctx.max_field_bytes)
    return fields


def check_raw(fields: Fields, limit: int) -> None:
    """Every value within ``limit`` bytes, and every name and value free of NUL (PostgreSQL cannot hold one)."""
    values = fields.values()
    if not values:
        raise InvalidEvent("missing", "the entry has no fields")
    if max(map(len, values)) > limit:
        name = next(k for k, v in fields.items() if len(v) > limit)
        raise InvalidEvent("too_large", f"field {_show(name)} is over {limit} bytes (IOC_MAX_FIELD_BYTES)")
    if b"\x00" in b"".join(values) or b"\x00" in b"".join(fields):
        name = next(k for k, v in fields.items() if b"\x00" in v or b"\x00" in k)
        raise InvalidEvent("encoding", f"field {_show(name)} contains a NUL byte")


def text(raw: bytes | None, name: str, max_len: int = MAX_TEXT) -> str:
    """A required short free-text field such as an id; missing or blank is an error."""
    if raw is None:
        raise InvalidEvent("missing", f"missing field '{name}'")
    value = _decode(raw, name).strip()
    if not value:
        raise InvalidEvent("missing", f"missing field '{name}'")
    if len(value) > max_len:
        raise InvalidEvent("too_large", f"'{name}' is longer than {max_len} characters")
    return value


def present_text(raw: bytes | None, name: str, max_len: int) -> str:
    """A field that must be present but may be empty (the unit of a dimensionless index)."""
    if raw is None:
        raise InvalidEvent("missing", f"missing field '{name}'")
    value = _decode(raw, name).strip()
    if len(value) > max_len:
        raise InvalidEvent("too_large", f"'{name}' is longer than {max_len} characters")
    return value


def optional_text(raw: bytes | None, name: str) -> str | None:
    """Free text that may be absent."""
    if raw is None:
        return None
    return _decode(raw, name).strip() or None


def identifier(ctx: ParseContext, raw: bytes | None, name: str) -> str:
    """A required lower_snake_case word (kind, metric, category)."""
    known = ctx.answers.get(raw)
    if known is not None:
        return known
    value = text(raw, name, 64)
    if not _IDENT.fullmatch(value):
        raise InvalidEvent("bad_value", f"'{name}' must be lower_snake_case, got {value[:40]!r}")
    ctx.cache.remember(raw, value, 2 * len(raw))  # only valid words: at most 64 bytes each
    return value


def choice(raw: bytes | None, name: str, allowed: Mapping[bytes, str]) -> str:
    """A required field from a fixed set, given as raw bytes → the stored word."""
    value = allowed.get(raw.strip()) if raw is not None else None
    if value is None:
        if raw is None or not raw.strip():
            raise InvalidEvent("missing", f"missing field '{name}'")
        shown = raw[:40].decode(errors="replace")
        raise InvalidEvent("bad_value", f"unknown {name} {shown!r}; expected one of {sorted(allowed.values())}")
    return value


def number(raw: bytes | None, name: str) -> float:
    """A required finite number."""
    if raw is None or not raw.strip():
        raise InvalidEvent("missing", f"missing field '{name}'")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidEvent("not_a_number", f"'{name}' is not a number: {_excerpt(raw)}") from None
    if not math.isfinite(value):
        raise InvalidEvent("not_finite", f"'{name}' must be finite, got {_excerpt(raw)}")
    return value


def optional_number(raw: bytes | None, name: str) -> float | None:
    """A finite number, or None when the field is absent or empty."""
    if raw is None or not raw.strip():
        return None
    return number(raw, name)


def in_range(name: str, value: float, low: float, high: float) -> float:
    """``value`` if ``low <= value <= high``."""
    if not low <= value <= high:
        raise InvalidEvent("out_of_range", f"'{name}' = {value} is outside {low}..{high}")
    return value


def place(
    ctx: ParseContext, raw_lat: bytes | None, raw_lon: bytes | None, raw_district: bytes | None, *, derive: bool
) -> tuple[float, float, str]:
    """(lat, lon, district): a position inside the city, and its district (named, or derived from the position)."""
    key = ("place", raw_lat, raw_lon, raw_district, derive)
    known = ctx.answers.get(key)
    if known is None:
        known = locate(ctx, raw_lat, raw_lon, raw_district, derive=derive)
        # Only valid positions are remembered; their raw text is within the entry's budget.
        ctx.cache.remember(key, known, len(raw_lat) + len(raw_lon) + len(raw_district or b""))
    return known


def locate(
    ctx: ParseContext, raw_lat: bytes | None, raw_lon: bytes | None, raw_district: bytes | None, *, derive: bool
) -> tuple[float, float, str]:
    """``place`` without remembering the answer, for callers that remember a larger whole themselves."""
    lat, lon = number(raw_lat, "lat"), number(raw_lon, "lon")
    west, south, east, north = ctx.bounds
    if not (south <= lat <= north and west <= lon <= east):
        raise InvalidEvent("outside_city", f"position lat={lat}, lon={lon} is outside the city bounds")
    named = optional_text(raw_district, "district")
    if named:
        district = ctx.city.normalize_district(named)
        if district is None:
            raise InvalidEvent("unknown_district", f"unknown district {named[:40]!r}")
    elif not derive:
        raise InvalidEvent("missing", "missing field 'district'")
    else:
        district = ctx.city.district_at(lon, lat)
        if district is None:
            raise InvalidEvent("outside_city", f"position lat={lat}, lon={lon} is in no district of the city")
    return lat, lon, district


def entry_time_ms(entry_id: bytes) -> int:
    """The millisecond time Redis gave the entry (the part of its id before the dash)."""
    return int(entry_id.split(b"-", 1)[0])


def source_entry(fields: Fields, entry_id: bytes) -> bytes:
    """The id an entry is stored under and timed by: its own, or for a dead letter put back by a replay the id the
    entry first had (``dlq_replay_of``), so that the replay is judged as at its first arrival and a second replay of
    the same letter is a duplicate of the first, not a second row. Only an id earlier than the entry's own is
    taken: a producer cannot claim the id of an entry yet to come."""
    first = fields.get(REPLAY_OF)
    if first is None:
        return entry_id
    if not ENTRY_ID.fullmatch(first) or _id_order(first) >= _id_order(entry_id):
        raise InvalidEvent("bad_value", f"{REPLAY_OF.decode()} must be the id of an earlier entry (replays set it)")
    return first


def _id_order(entry_id: bytes) -> tuple[int, int]:
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)


def timestamp(raw: bytes | None, entry_id: bytes, ctx: ParseContext) -> datetime:
    """The event time: ``ts`` as ISO 8601 with an offset or epoch milliseconds, else the entry id's time."""
    if raw is not None and raw.isdigit():  # the common case, checked first and without copies
        ms = int(raw)
        if EARLIEST_MS <= ms <= int(entry_id.partition(b"-")[0]) + ctx.max_future_skew_ms:
            return _from_ms(ms, raw)
    arrived_ms = entry_time_ms(entry_id)
    if raw is None or not raw.strip():
        return _from_ms(arrived_ms, b"entry id")
    raw = raw.strip()
    if raw.isdigit():  # bytes.isdigit is ASCII-only
        ms = int(raw)
        if ms < EARLIEST_MS:
            raise InvalidEvent("bad_ts", f"ts {_excerpt(raw)} is before 2000; epoch milliseconds expected")
        if ms > arrived_ms + ctx.max_future_skew_ms:
            raise InvalidEvent("future_ts", f"ts {_excerpt(raw)} is {(ms - arrived_ms) // 1000} s ahead of arrival")
        return _from_ms(ms, raw)
    try:
        parsed = datetime.fromisoformat(raw.decode("ascii"))
        if parsed.tzinfo is None:
            raise InvalidEvent("bad_ts", f"ts {_excerpt(raw)} has no UTC offset")
        parsed = parsed.astimezone(UTC)
        ms = int(parsed.timestamp() * 1000)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):
        raise InvalidEvent("bad_ts", f"ts {_excerpt(raw)} is neither ISO 8601 nor epoch milliseconds") from None
    if ms < EARLIEST_MS:
        raise InvalidEvent("bad_ts", f"ts {_excerpt(raw)} is before 2000")
    if ms > arrived_ms + ctx.max_future_skew_ms:
        raise InvalidEvent("future_ts", f"ts {_excerpt(raw)} is {(ms - arrived_ms) // 1000} s ahead of arrival")
    return parsed


def extra_attributes(fields: Fields, known: frozenset[bytes]) -> dict[str, str] | None:
    """Fields outside the contract, kept (as the JSON `attrs` column) rather than rejected; None if none.

    A replay's own fields (``REPLAY_FIELDS``) are not the producer's: they are never kept."""
    if fields.keys() <= known:
        return None
    extra = {}
    for raw_key, raw_value in fields.items():
        if raw_key not in known and raw_key not in REPLAY_FIELDS:
            name = _decode(raw_key, "(field name)")
            if len(raw_key) > MAX_TEXT:
                raise InvalidEvent("too_large", f"field name {_show(raw_key)}… is longer than {MAX_TEXT} bytes")
            extra[name] = _decode(raw_value, name)
    return extra or None


def _from_ms(ms: int, raw: bytes) -> datetime:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidEvent("bad_ts", f"ts {_excerpt(raw)} is out of range") from None


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise InvalidEvent("encoding", f"field {name!r} is not valid UTF-8") from None


def _excerpt(raw: bytes) -> str:
    return repr(raw[:40].decode(errors="replace"))


def _show(raw_key: bytes) -> str:
    return repr(raw_key[:40].decode(errors="replace"))
