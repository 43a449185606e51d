"""`city:iot`: one sensor reading per entry (docs/EVENTS.md).

Readings are nearly all of the city's traffic, so besides the reference parser there is a fast path for the shape
Redis sends (a flat name/value list): the entry's field names are looked up once per distinct layout, and what
describes the device (id, kind, metric, unit, position, district) is validated once per distinct set of raw
values. The fast path only ever accepts; anything it is unsure of, or finds wrong, goes to the reference parser,
so the two cannot disagree on what is refused or why (a property test checks they agree on what is accepted).

Both hold the entry to its budget before anything else: the fast path takes only entries within
``ctx.flat_items`` items and ``ctx.fast_bytes`` bytes (a length comparison and the join it needs anyway), so
nothing larger reaches its caches; the reference parser starts with ``check_budget``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import itemgetter
from typing import NamedTuple

from streams.fields import (
    Fields,
    FlatFields,
    InvalidEvent,
    ParseContext,
    checked,
    extra_attributes,
    identifier,
    locate,
    number,
    place,
    present_text,
    source_entry,
    text,
    timestamp,
)

KNOWN_FIELDS = frozenset({b"device_id", b"kind", b"metric", b"value", b"unit", b"lat", b"lon", b"district", b"ts"})


class SensorReading(NamedTuple):
    """One reading, in the column order of ``sensor_readings``."""

    ts: datetime
    device_id: str
    kind: str
    metric: str
    value: float
    unit: str
    lat: float
    lon: float
    district: str
    attrs: dict[str, str] | None
    source_id: str


# The device's part of a reading first (it repeats from one reading to the next), then value and time.
FAST_ORDER = (b"device_id", b"kind", b"metric", b"unit", b"lat", b"lon", b"district", b"value", b"ts")
DEVICE_PART = len(FAST_ORDER) - 2


def parse_reading(fields: Fields | FlatFields, entry_id: bytes, ctx: ParseContext) -> SensorReading:
    """Validate one `city:iot` entry; raises ``InvalidEvent`` saying what is wrong."""
    if isinstance(fields, list):
        reading = _parse_flat(fields, entry_id, ctx)
        if reading is not None:
            return reading
    fields = checked(fields, ctx)
    get = fields.get
    entry_id = source_entry(fields, entry_id)
    lat, lon, district = place(ctx, get(b"lat"), get(b"lon"), get(b"district"), derive=True)
    return SensorReading(
        timestamp(get(b"ts"), entry_id, ctx),
        text(get(b"device_id"), "device_id"),
        identifier(ctx, get(b"kind"), "kind"),
        identifier(ctx, get(b"metric"), "metric"),
        number(get(b"value"), "value"),
        present_text(get(b"unit"), "unit", 32),
        lat,
        lon,
        district,
        extra_attributes(fields, KNOWN_FIELDS),
        entry_id.decode(),
    )


def _parse_flat(fields: FlatFields, entry_id: bytes, ctx: ParseContext) -> SensorReading | None:
    """The reading, or None when the reference parser must decide (unusual layout, any doubt, any error)."""
    # The budget first: within these two lengths the entry is within its budget and each value within its limit.
    if len(fields) > ctx.flat_items:
        return None
    joined = b"".join(fields)
    if len(joined) > ctx.fast_bytes or b"\x00" in joined:
        return None
    names = tuple(fields[::2])
    pick = ctx.layouts.get(names)
    if pick is None:
        pick = _layout(names)
        ctx.cache.remember_layout(names, pick, len(joined))
    if not pick:
        return None
    values = fields[1::2]
    values.append(None)  # where every absent field points
    raw = pick(values)
    try:
        device_part = raw[:DEVICE_PART]
        device = ctx.answers.get(device_part)
        if device is None:
            device = _device(ctx, *device_part)
            ctx.cache.remember(device_part, device, len(joined))  # valid, and no more text than the entry's
        device_id, kind, metric, unit, lat, lon, district = device
        value = number(raw[DEVICE_PART], "value")
        ts = timestamp(raw[DEVICE_PART + 1], entry_id, ctx)
    except InvalidEvent:
        return None
    # tuple.__new__ skips the generated Python __new__ of a NamedTuple: a measurable share of this path
    return tuple.__new__(
        SensorReading, (ts, device_id, kind, metric, value, unit, lat, lon, district, None, entry_id.decode())
    )


def _layout(names: tuple[bytes, ...]) -> Callable[[list], tuple] | bool:
    """Picks the fast path's fields out of an entry's values, or False for layouts left to the reference parser."""
    if len(set(names)) != len(names) or not KNOWN_FIELDS.issuperset(names):
        return False  # repeated names or extra attributes
    position = {name: i for i, name in enumerate(names)}
    absent = len(names)
    return itemgetter(*(position.get(name, absent) for name in FAST_ORDER))


def _device(ctx: ParseContext, device_id, kind, metric, unit, lat, lon, district) -> tuple:
    return (
        text(device_id, "device_id"),
        identifier(ctx, kind, "kind"),
        identifier(ctx, metric, "metric"),
        present_text(unit, "unit", 32),
        # Not ``place``: at city scale most devices are new and so are their positions, and remembering the
        # position as well cost a microsecond a reading (bench/ingest_profile.py --own-positions).
        *locate(ctx, lat, lon, district, derive=True),
    )
