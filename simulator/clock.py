"""Shenzhen time for the simulator: epoch milliseconds in, local hour and ``ts`` strings out.

China keeps UTC+08:00 all year (no daylight saving), so local time is plain arithmetic on epoch
milliseconds; that keeps the hot generator free of ``datetime`` objects.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

OFFSET_MS = 8 * 3_600_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_day_text: dict[int, str] = {}


def local_hour(ms: int | float) -> float:
    """Hour of the local day, 0 ≤ h < 24, with fractions."""
    return ((ms + OFFSET_MS) % DAY_MS) / HOUR_MS


def local_day(ms: int | float) -> date:
    """The local calendar date."""
    return date.fromordinal(_EPOCH_ORDINAL + int((ms + OFFSET_MS) // DAY_MS))


def day_start_ms(day: date) -> int:
    """Epoch ms of local midnight starting ``day``."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS - OFFSET_MS


def is_weekend(ms: int | float) -> bool:
    """Saturday or Sunday, local time."""
    return local_day(ms).weekday() >= 5


def iso_local(ms: int) -> str:
    """``2026-11-24T08:30:01.250+08:00``: ISO 8601 with Shenzhen's offset, at millisecond precision."""
    local = ms + OFFSET_MS
    day, rest = divmod(local, DAY_MS)
    text = _day_text.get(day)
    if text is None:
        if len(_day_text) > 10_000:  # a memo of dates, bounded for very long backfills
            _day_text.clear()
        text = _day_text[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    seconds, millis = divmod(rest, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{text}T{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}+08:00"


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
