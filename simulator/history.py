"""Back-filled history, the pure part: which stretches of the past to generate at which reading rate, and how the
engine's events become the storage ``Batch`` the ingest's own writer commits.

The live simulator reports every sensor metric every few seconds; a week of that is ~120 million readings,
far more than a first run can wait for. The past is therefore sampled coarser: every metric once per
``interval_s`` over the last two days (each in turn, so every device is seen in every interval, and "devices
online" at this time yesterday is true), and once per three intervals before that, where only the week's hourly
charts look. One stretch is the exception: the minutes from 24 h 10 min before now are written at the live rate,
because the overview compares the last minutes' readings with the same minutes yesterday, and a coarse
yesterday would read as "▲ 5,000 % vs yesterday".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.clock import DAY_MS
from simulator.devices import Channel
from simulator.engine import Event
from storage.event_store import Batch
from streams.batching import parse_entries
from streams.fields import ParseContext
from streams.iot import SensorReading

MINUTE_MS = 60_000
# The overview's "devices online yesterday" looks 10 minutes back from the same time yesterday.
YESTERDAY_LEAD_MS = 10 * MINUTE_MS
# Before the last two days (only the week's hourly charts show them) metrics report three times less often.
RECENT_MS = 2 * DAY_MS
OLD_SPARSER = 3
# Data centres sample every 10 s live; the history keeps one sample a minute per site (the charts' grain).
SAMPLE_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class Stretch:
    """``[start_ms, end_ms)`` generated at ``readings_per_s``."""

    start_ms: int
    end_ms: int
    readings_per_s: float


def stretches(
    start_ms: int, end_ms: int, now_ms: int, coarse_per_s: float, live_per_s: float, live_rate_ms: int
) -> list[Stretch]:
    """The past ``[start_ms, end_ms)`` cut into stretches: at a third of ``coarse_per_s`` before the last two
    days, at ``coarse_per_s`` in them, and at ``live_per_s`` from 24 h 10 min before ``now_ms`` for
    ``live_rate_ms`` more (0: no such stretch), each clipped to the period asked for."""
    recent = now_ms - RECENT_MS
    dense_start = now_ms - DAY_MS - YESTERDAY_LEAD_MS
    dense_end = dense_start + YESTERDAY_LEAD_MS + live_rate_ms
    edges = (recent, dense_start, dense_end) if live_rate_ms > 0 else (recent,)
    cuts = sorted({start_ms, end_ms, *(t for t in edges if start_ms < t < end_ms)})

    def rate(a: int, b: int) -> float:
        if live_rate_ms > 0 and dense_start <= a and b <= dense_end:
            return live_per_s
        return coarse_per_s if a >= recent else coarse_per_s / OLD_SPARSER

    return [Stretch(a, b, rate(a, b)) for a, b in zip(cuts, cuts[1:], strict=False)]


def coarse_rate(channels: int, interval_s: float) -> float:
    """Readings per simulated second so that each of ``channels`` reports once per ``interval_s``."""
    return channels / interval_s


class ReadingMaker:
    """Turns the engine's numeric readings into ``SensorReading`` rows, without stream fields in between.

    The simulator's stream fields are on contract by construction (a unit test parses them with the ingest's
    parsers), and formatting then parsing them would be most of a back-fill's time. A row here holds what the
    ingest would have made of the same reading: the value at the device's precision, its fixed fields, and its
    district (placement keeps every device inside the district the ingest would derive from its position)."""

    def __init__(self, channels: Sequence[Channel]) -> None:
        self._device = [
            (c.device_id, c.kind, c.metric, c.fields["unit"], float(c.fields["lat"]), float(c.fields["lon"]),
             c.district, c.decimals)
            for c in channels
        ]  # fmt: skip

    def readings(self, values: Iterable[tuple[int, int, float]], entry_ms: int) -> list[SensorReading]:
        """``sensor_readings`` rows of ``(channel index, ts ms, value)`` triples; ids ``entry_ms-0``, ``-1``, …"""
        device, new, from_ts = self._device, tuple.__new__, datetime.fromtimestamp
        out = []
        for seq, (index, ms, value) in enumerate(values):
            device_id, kind, metric, unit, lat, lon, district, decimals = device[index]
            out.append(new(SensorReading, (
                from_ts(ms / 1000, UTC), device_id, kind, metric, round(value, decimals), unit, lat, lon, district,
                None, f"{entry_ms}-{seq}",
            )))  # fmt: skip
        return out


def to_batch(
    values: list[tuple[int, int, float]], others: list[Event], entry_ms: int, maker: ReadingMaker, ctx: ParseContext
) -> Batch:
    """A storage batch of one generated window: its numeric readings and its other events.

    Each event gets a Redis-like id ``entry_ms-seq`` (its ``source_id``); ``entry_ms`` must not be before the
    window's end, as a stream entry is never older than its event. Complaints and data-centre samples are few
    and go through the ingest's own parsers (district names in Chinese or English are normalised there)."""
    batch = Batch(readings=maker.readings(values, entry_ms))
    by_kind: dict[str, list] = {}
    for seq, (kind, fields) in enumerate(others, len(values)):
        flat = [part.encode() for pair in fields.items() for part in pair]
        by_kind.setdefault(kind, []).append((f"{entry_ms}-{seq}".encode(), flat))
    if by_kind:
        parsed = parse_entries(by_kind, ctx, redelivered=False)
        if parsed.rejected:
            first = parsed.rejected[0]
            raise ValueError(f"the simulator broke the event contract: {first.kind} {first.code}: {first.reason}")
        batch.complaints, batch.samples = parsed.batch.complaints, parsed.batch.samples
    return batch


def merge(into: Batch, more: Batch) -> None:
    """Append ``more``'s rows to ``into``."""
    into.readings.extend(more.readings)
    into.complaints.extend(more.complaints)
    into.samples.extend(more.samples)
