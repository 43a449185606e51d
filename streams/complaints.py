"""`city:complaints`: one event in the life of an Open311-style service request (docs/EVENTS.md)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from streams.fields import (
    Fields,
    FlatFields,
    InvalidEvent,
    ParseContext,
    checked,
    choice,
    extra_attributes,
    identifier,
    optional_text,
    place,
    source_entry,
    text,
    timestamp,
)

# A rating of 3 ("basically satisfied") or better counts as satisfied, as 12345-style hotlines report it.
SATISFIED_MIN = 3
STATUSES = {b"open": "open", b"in_progress": "in_progress", b"closed": "closed"}
CHANNELS = {b"app": "app", b"hotline": "hotline", b"wechat": "wechat", b"web": "web"}
RATINGS = {b"1": 1, b"2": 2, b"3": 3, b"4": 4, b"5": 5}
KNOWN_FIELDS = frozenset({b"request_id", b"status", b"category", b"district", b"lat", b"lon", b"channel",
                          b"description", b"satisfaction", b"ts"})  # fmt: skip


class ComplaintEvent(NamedTuple):
    """One complaint event, in the column order of ``complaint_events``."""

    ts: datetime
    request_id: str
    status: str
    category: str
    district: str
    lat: float
    lon: float
    channel: str
    description: str | None
    satisfaction: int | None
    attrs: dict[str, str] | None
    source_id: str


def parse_complaint(fields: Fields | FlatFields, entry_id: bytes, ctx: ParseContext) -> ComplaintEvent:
    """Validate one `city:complaints` entry; raises ``InvalidEvent`` saying what is wrong."""
    fields = checked(fields, ctx)  # the budget first, before anything is decoded or remembered
    get = fields.get
    entry_id = source_entry(fields, entry_id)
    status = choice(get(b"status"), "status", STATUSES)
    lat, lon, district = place(ctx, get(b"lat"), get(b"lon"), get(b"district"), derive=False)
    return ComplaintEvent(
        timestamp(get(b"ts"), entry_id, ctx),
        text(get(b"request_id"), "request_id"),
        status,
        identifier(ctx, get(b"category"), "category"),
        district,
        lat,
        lon,
        choice(get(b"channel"), "channel", CHANNELS),
        optional_text(get(b"description"), "description"),
        _satisfaction(get(b"satisfaction"), status),
        extra_attributes(fields, KNOWN_FIELDS),
        entry_id.decode(),
    )


def _satisfaction(raw: bytes | None, status: str) -> int | None:
    if raw is None or not raw.strip():
        return None
    if status != "closed":
        raise InvalidEvent("bad_value", f"satisfaction comes only with status 'closed', not '{status}'")
    rating = RATINGS.get(raw.strip())
    if rating is None:
        shown = raw[:20].decode(errors="replace")
        raise InvalidEvent("out_of_range", f"satisfaction must be a whole number 1-5, got {shown!r}")
    return rating
