"""The city's local time for the simulator: epoch milliseconds in, local hour and ``ts`` strings out.

``CityClock`` follows any IANA time zone, daylight saving included, yet keeps the hot generator free of
``datetime`` objects: the zone's UTC offset is looked up once per quarter hour of epoch time (every zone's
transitions fall on quarter hours) and remembered, and the rest is arithmetic on epoch milliseconds. The
module-level functions are the default city's clock (Shenzhen, UTC+08:00 all year).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_QUARTER_MS = 900_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MEMO_LIMIT = 100_000  # quarter hours (~3 years) or dates remembered before the memo starts again


class CityClock:
    """Local time in one time zone, for epoch milliseconds."""

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._offsets: dict[int, int] = {}
        self._day_text: dict[int, str] = {}
        self._suffix: dict[int, str] = {}

    def offset_ms(self, ms: int | float) -> int:
        """The zone's UTC offset at ``ms``, in milliseconds."""
        quarter = int(ms // _QUARTER_MS)
        found = self._offsets.get(quarter)
        if found is None:
            if len(self._offsets) > _MEMO_LIMIT:
                self._offsets.clear()
            moment = datetime.fromtimestamp(quarter * _QUARTER_MS / 1000, UTC).astimezone(self._zone)
            found = self._offsets[quarter] = int(moment.utcoffset() / timedelta(milliseconds=1))
        return found

    def local_hour(self, ms: int | float) -> float:
        """Hour of the local day, 0 ≤ h < 24, with fractions."""
        return ((ms + self.offset_ms(ms)) % DAY_MS) / HOUR_MS

    def local_day(self, ms: int | float) -> date:
        """The local calendar date."""
        return date.fromordinal(_EPOCH_ORDINAL + int((ms + self.offset_ms(ms)) // DAY_MS))

    def day_start_ms(self, day: date) -> int:
        """Epoch ms of local midnight starting ``day`` (the offset of that midnight, found from noon's)."""
        midnight_utc = (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS
        start = midnight_utc - self.offset_ms(midnight_utc + DAY_MS // 2)
        return midnight_utc - self.offset_ms(start)

    def is_weekend(self, ms: int | float) -> bool:
        """Saturday or Sunday, local time."""
        return self.local_day(ms).weekday() >= 5

    def iso_local(self, ms: int) -> str:
        """``2026-11-24T08:30:01.250+08:00``: ISO 8601 with the zone's offset, at millisecond precision."""
        offset = self.offset_ms(ms)
        day, rest = divmod(ms + offset, DAY_MS)
        text = self._day_text.get(day)
        if text is None:
            if len(self._day_text) > _MEMO_LIMIT:  # a memo of dates, bounded for very long backfills
                self._day_text.clear()
            text = self._day_text[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
        seconds, millis = divmod(rest, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return f"{text}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}{self._offset_text(offset)}"

    def _offset_text(self, offset: int) -> str:
        text = self._suffix.get(offset)
        if text is None:
            sign, size = ("+" if offset >= 0 else "-"), abs(offset) // 60_000
            text = self._suffix[offset] = f"{sign}{size // 60:02d}:{size % 60:02d}"
        return text


DEFAULT_CLOCK = CityClock("Asia/Shanghai")
local_hour = DEFAULT_CLOCK.local_hour
local_day = DEFAULT_CLOCK.local_day
day_start_ms = DEFAULT_CLOCK.day_start_ms
is_weekend = DEFAULT_CLOCK.is_weekend
iso_local = DEFAULT_CLOCK.iso_local


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
