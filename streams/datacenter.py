"""`city:datacenter`: one data-centre power sample (docs/EVENTS.md)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from streams.fields import (
    Fields,
    FlatFields,
    InvalidEvent,
    ParseContext,
    checked,
    extra_attributes,
    in_range,
    number,
    optional_number,
    source_entry,
    text,
    timestamp,
)

KNOWN_FIELDS = frozenset({b"site", b"facility_kw", b"it_kw", b"inlet_temp_c", b"humidity_pct", b"ts"})


class PowerSample(NamedTuple):
    """One sample, in the column order of ``datacenter_samples``."""

    ts: datetime
    site: str
    facility_kw: float
    it_kw: float
    inlet_temp_c: float | None
    humidity_pct: float | None
    attrs: dict[str, str] | None
    source_id: str


def parse_power_sample(fields: Fields | FlatFields, entry_id: bytes, ctx: ParseContext) -> PowerSample:
    """Validate one `city:datacenter` entry; raises ``InvalidEvent`` saying what is wrong."""
    fields = checked(fields, ctx)  # the budget first, before anything is decoded or remembered
    get = fields.get
    entry_id = source_entry(fields, entry_id)
    facility_kw, it_kw = number(get(b"facility_kw"), "facility_kw"), number(get(b"it_kw"), "it_kw")
    if it_kw <= 0:
        raise InvalidEvent("out_of_range", f"'it_kw' must be above 0, got {it_kw}")
    if facility_kw < it_kw:
        raise InvalidEvent("out_of_range", f"facility_kw {facility_kw} is below it_kw {it_kw} (PUE under 1)")
    inlet = optional_number(get(b"inlet_temp_c"), "inlet_temp_c")
    humidity = optional_number(get(b"humidity_pct"), "humidity_pct")
    return PowerSample(
        timestamp(get(b"ts"), entry_id, ctx),
        text(get(b"site"), "site"),
        facility_kw,
        it_kw,
        None if inlet is None else in_range("inlet_temp_c", inlet, -40.0, 90.0),
        None if humidity is None else in_range("humidity_pct", humidity, 0.0, 100.0),
        extra_attributes(fields, KNOWN_FIELDS),
        entry_id.decode(),
    )
