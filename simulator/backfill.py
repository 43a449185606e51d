"""Back-fill the simulated city's history straight into TimescaleDB (``ioc simulate backfill``).

The pure engine generates the past window by window (``simulator.history`` decides the rates) and the ingest's
own writer, ``storage.event_store.EventStore``, commits it: raw rows, current state and rollups in one
transaction per batch, exactly as if the events had come through the streams. Nothing goes through Redis and
nothing waits for real time.

What is filled is the gap between the newest stored reading and now, at most ``days`` long: an empty database
gets the whole period, a second run finds history up to a moment ago and returns at once, and a run
interrupted half-way is resumed where its last committed batch ended.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from simulator.engine import CitySimulation
from simulator.history import ReadingMaker, Stretch, merge, to_batch
from storage.event_store import Batch, EventStore
from streams.fields import ParseContext

log = logging.getLogger(__name__)
DAY_MS = 86_400_000
SMALLEST_GAP_MS = 60_000  # less than a minute missing: history is there, start live at once
WINDOW_MS = 60_000  # day shapes and incidents are evaluated once per generated window
BATCH_EVENTS = 50_000  # events per transaction


@dataclass(frozen=True)
class Filled:
    """What a back-fill wrote: the period and the rows per stream."""

    start_ms: int
    end_ms: int
    readings: int = 0
    complaints: int = 0
    samples: int = 0

    @property
    def events(self) -> int:
        """Rows written, all streams together."""
        return self.readings + self.complaints + self.samples


def newest_reading_ms(conn: psycopg.Connection) -> int | None:
    """Epoch ms of the newest stored sensor reading, or None for an empty history."""
    row = conn.execute("SELECT (extract(epoch FROM max(ts)) * 1000)::int8 FROM sensor_readings").fetchone()
    return row[0]


def gap_to_fill(newest_ms: int | None, now_ms: int, days: float) -> tuple[int, int] | None:
    """``[start, now)`` still missing from the last ``days`` days, or None when history reaches (almost) now."""
    start = now_ms - int(days * DAY_MS)
    if newest_ms is not None:
        start = max(start, newest_ms + 1)
    return (start, now_ms) if now_ms - start >= SMALLEST_GAP_MS else None


def write_stretches(
    sim: CitySimulation,
    store: EventStore,
    ctx: ParseContext,
    plan: list[Stretch],
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Filled:
    """Generate every stretch of ``plan`` window by window and commit it in batches; returns what was written.

    One batch is committed (by a thread: the database works while Python generates) as the next is made."""
    maker = ReadingMaker(sim.channels)
    total_ms = sum(s.end_ms - s.start_ms for s in plan)
    done_ms, counts, pending = 0, [0, 0, 0], Batch()
    in_flight: Future | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-writer") as writer:
        for stretch in plan:
            for start in range(stretch.start_ms, stretch.end_ms, WINDOW_MS):
                if stop is not None and stop.is_set():
                    break
                end = min(start + WINDOW_MS, stretch.end_ms)
                values, others = sim.window_values(start, end, stretch.readings_per_s)
                merge(pending, to_batch(values, others, end, maker, ctx))
                done_ms += end - start
                if len(pending) >= BATCH_EVENTS:
                    in_flight = _hand_over(writer, store, in_flight, pending, counts)
                    pending = Batch()
                    if progress is not None:
                        progress(done_ms, total_ms)
        if len(pending):
            in_flight = _hand_over(writer, store, in_flight, pending, counts)
        if in_flight is not None:
            in_flight.result()
    return Filled(plan[0].start_ms if plan else 0, plan[-1].end_ms if plan else 0, *counts)


def _hand_over(
    writer: ThreadPoolExecutor, store: EventStore, in_flight: Future | None, batch: Batch, counts: list[int]
) -> Future:
    """Wait for the batch being committed (its failure stops the back-fill), then start committing ``batch``."""
    if in_flight is not None:
        in_flight.result()
    counts[0] += len(batch.readings)
    counts[1] += len(batch.complaints)
    counts[2] += len(batch.samples)
    return writer.submit(store.write, batch)


def backfill_database(
    sim: CitySimulation,
    conn: psycopg.Connection,
    ctx: ParseContext,
    days: float,
    plan_for: Callable[[int, int, int], list[Stretch]],
    wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Filled | None:
    """Fill the missing part of the last ``days`` days up to now, then catch up with the time that took.

    ``plan_for(start_ms, end_ms, now_ms)`` cuts a period into stretches. Returns None when there was nothing
    to fill. ``conn`` must not be in autocommit mode (the store commits one transaction per batch)."""
    now_ms = wall_ms()
    gap = gap_to_fill(newest_reading_ms(conn), now_ms, days)
    conn.commit()
    if gap is None:
        return None
    start_ms, end_ms = gap
    log.info("back-filling %s .. %s", _iso(start_ms), _iso(end_ms))
    store = EventStore(conn)
    filled = write_stretches(sim, store, ctx, plan_for(start_ms, end_ms, now_ms), stop, progress)
    totals = [filled.readings, filled.complaints, filled.samples]
    # Generating took a while: fill that too (coarse), so the live simulator starts where history ends.
    while stop is None or not stop.is_set():
        now_ms = wall_ms()
        if now_ms - end_ms < 1000:
            break
        more = write_stretches(sim, store, ctx, plan_for(end_ms, now_ms, now_ms), stop)
        totals = [a + b for a, b in zip(totals, (more.readings, more.complaints, more.samples), strict=True)]
        end_ms = now_ms
    return Filled(start_ms, end_ms, *totals)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
