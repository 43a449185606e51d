"""The simulator's only I/O: write generated windows to the Redis Streams with pipelined ``XADD``.

Two ways to drive ``CitySimulation``: ``backfill`` walks a past period in fixed windows as fast as Redis
accepts the entries; ``run_live`` follows the wall clock, paced by the monotonic clock so a clock step or a
slow tick never changes the rate (a late tick simply gets a longer window). The producer never trims
(no ``MAXLEN``): retention belongs to the IOC's housekeeping, which trims only what has been stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import redis

from simulator.engine import CitySimulation, Event
from streams.shards import Shards

log = logging.getLogger(__name__)
PIPELINE_SIZE = 2000
MAX_WINDOW_MS = 1000  # the most event time the live phase generates and publishes at once


def publish(
    client: redis.Redis, streams: Shards, events: Sequence[Event], pipeline_size: int = PIPELINE_SIZE
) -> int:
    """XADD every event to its stream: its shard's stream of its kind (``iot``/``complaints``/``datacenter``)."""
    for first in range(0, len(events), pipeline_size):
        pipe = client.pipeline(transaction=False)  # MULTI/EXEC buys nothing here and costs round trips
        for kind, fields in events[first : first + pipeline_size]:
            pipe.xadd(streams.stream_for(kind, fields), fields)
        pipe.execute()
    return len(events)


def backfill(
    sim: CitySimulation,
    client: redis.Redis,
    streams: Shards,
    start_ms: int,
    end_ms: int,
    readings_per_s: float,
    window_ms: int = 10_000,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Generate and write ``[start_ms, end_ms)`` of history; returns the number of entries written."""
    written, batch = 0, []
    for window_start in range(start_ms, end_ms, window_ms):
        if stop is not None and stop.is_set():
            break
        batch.extend(sim.window(window_start, min(window_start + window_ms, end_ms), readings_per_s))
        if len(batch) >= PIPELINE_SIZE * 5:
            written += publish(client, streams, batch)
            batch = []
            if progress is not None:
                progress(window_start - start_ms, end_ms - start_ms)
    return written + publish(client, streams, batch)


def backfill_to_now(
    sim: CitySimulation,
    client: redis.Redis,
    streams: Shards,
    start_ms: int,
    readings_per_s: float,
    stop: threading.Event,
    wall_ms: Callable[[], int],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Backfill from ``start_ms`` to the present, again and again until caught up (a long backfill takes a
    while, and the live phase must start where history ends); returns (entries written, end ms)."""
    written, cursor = 0, start_ms
    while not stop.is_set():
        now_ms = wall_ms()
        if now_ms - cursor < 1000:
            break
        written += backfill(sim, client, streams, cursor, now_ms, readings_per_s, stop=stop, progress=progress)
        cursor = now_ms
    return written, cursor


def run_live(
    sim: CitySimulation,
    client: redis.Redis,
    streams: Shards,
    start_ms: int,
    duration_s: float | None,
    stop: threading.Event,
    tick_s: float = 0.2,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Publish in real time from ``start_ms`` (wall clock) until ``duration_s`` passes or ``stop`` is set."""
    began = monotonic()
    last_ms, written, next_report = start_ms, 0, began + 10.0
    while not stop.is_set():
        elapsed = monotonic() - began
        if duration_s is not None and elapsed >= duration_s:
            elapsed = duration_s
        now_ms = start_ms + int(elapsed * 1000)
        if now_ms > last_ms:
            # At most MAX_WINDOW_MS of events at a time: a producer slower than its rate falls behind the clock,
            # publishing as fast as it can, instead of building ever longer windows in memory (a 2-core box at
            # 20,000 readings/s grew to minutes-long windows and 1.6 GB).
            upto = min(now_ms, last_ms + MAX_WINDOW_MS)
            written += publish(client, streams, sim.window(last_ms, upto))
            last_ms = upto
        if duration_s is not None and elapsed >= duration_s and last_ms >= now_ms:
            break
        if monotonic() >= next_report:
            behind_s = (now_ms - last_ms) / 1000
            log.info("live: %d entries written in %.0f s%s", written, monotonic() - began,
                     f"; {behind_s:.1f} s behind the clock" if behind_s >= 1 else "")  # fmt: skip
            next_report += 10.0
        stop.wait(0.0 if last_ms < now_ms else max(0.0, tick_s - (monotonic() - began - elapsed)))
    return written
