"""`city:iot`: one sensor reading per entry (docs/EVENTS.md)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from streams.fields import (
    Fields,
    FlatFields,
    ParseContext,
    as_mapping,
    check_raw,
    extra_attributes,
    identifier,
    number,
    place,
    present_text,
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


def parse_reading(fields: Fields | FlatFields, entry_id: bytes, ctx: ParseContext) -> SensorReading:
    """Validate one `city:iot` entry; raises ``InvalidEvent`` saying what is wrong."""
    fields = as_mapping(fields)
    check_raw(fields, ctx.max_field_bytes)
    get = fields.get
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
