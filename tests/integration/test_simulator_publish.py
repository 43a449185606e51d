"""The simulator's publishing loop against real Redis: every event lands, live pacing keeps the clock."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime
from itertools import pairwise

import bootstrap
from simulator.engine import CitySimulation, SimConfig
from simulator.publisher import publish, run_live
from tests.integration.stepped_clock import SteppedClock


def _ts_ms(raw: bytes) -> int:
    text = raw.decode()
    return int(text) if text.isdigit() else int(datetime.fromisoformat(text).timestamp() * 1000)


def small_city(s) -> CitySimulation:
    """300 sensors at 1,000 readings a second, no scheduled incidents."""
    return CitySimulation(bootstrap.city_map(s), SimConfig(seed=42, sensors=300, readings_per_s=1000.0,
                                                           complaints_per_hour=600.0, datacenter_sites=4,
                                                           scheduled_incidents=False))  # fmt: skip


def test_publish_writes_every_event(rds, test_settings):
    s = test_settings
    assert publish(rds, s.shards, [("iot", {"a": "1"})] * 4500, pipeline_size=2000) == 4500
    assert rds.xlen(s.stream_iot) == 4500


def test_live_pacing_follows_the_clock_and_a_late_tick_keeps_the_rate(rds, test_settings):
    s = test_settings
    sim = small_city(s)
    clock = SteppedClock()
    began, paused = clock.now, []  # (ms of the run gone by, readings in the stream) at each pause between ticks

    class Stop(threading.Event):
        """Never set; its waits take no time: they move the clock, and the second one oversleeps."""

        def wait(self, timeout: float | None = None) -> bool:
            paused.append((round((clock.now - began) * 1000), rds.xlen(s.stream_iot)))
            clock.sleep(timeout + (0.25 if len(paused) == 2 else 0.0))  # a busy machine's late tick
            return self.is_set()

    start = int(time.time() * 1000)
    # Ticks of 1/8 s: binary fractions, so the clock adds up exactly.
    written = run_live(sim, rds, s.shards, start, duration_s=0.6, stop=Stop(), tick_s=0.125, monotonic=clock.monotonic)
    readings = rds.xrange(s.stream_iot)
    assert len(readings) == 600  # 1000 a second for 0.6 s of the clock
    assert written == len(readings) + rds.xlen(s.stream_complaints) + rds.xlen(s.stream_datacenter)
    assert paused == [(0, 0), (125, 125), (500, 500)]  # never ahead of the clock; the late tick made up at once
    # Each 100 ms of event time holds its 100 readings, the late tick's 375 ms as well.
    assert Counter((_ts_ms(f[b"ts"]) - start) // 100 for _, f in readings) == {i: 100 for i in range(6)}


def test_a_producer_behind_the_clock_publishes_a_second_at_a_time_until_it_has_caught_up(rds, test_settings):
    s = test_settings
    sim = small_city(s)
    clock = SteppedClock()
    in_stream = []  # readings in the stream at each pause

    class Stop(threading.Event):
        """Never set; the second wait oversleeps by 3 s, as a producer that could not keep its rate."""

        def wait(self, timeout: float | None = None) -> bool:
            in_stream.append(rds.xlen(s.stream_iot))
            clock.sleep(timeout + (3.0 if len(in_stream) == 2 else 0.0))
            return self.is_set()

    run_live(sim, rds, s.shards, int(time.time() * 1000), duration_s=4.0, stop=Stop(), tick_s=0.5,
             monotonic=clock.monotonic)  # fmt: skip
    in_stream.append(rds.xlen(s.stream_iot))
    assert in_stream[-1] == 4000  # every reading of the 4 s, in the end
    # 3.5 s behind after the long pause: caught up a second of readings at a time, never 3.5 s in one window
    assert [after - before for before, after in pairwise(in_stream)] == [500, 1000, 1000, 1000, 500]
