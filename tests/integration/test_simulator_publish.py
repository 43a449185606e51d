"""The simulator's publishing loop against real Redis: every event lands, live pacing keeps the clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import bootstrap
from simulator.engine import CitySimulation, SimConfig
from simulator.publisher import publish, run_live


def _ts_ms(raw: bytes) -> int:
    text = raw.decode()
    return int(text) if text.isdigit() else int(datetime.fromisoformat(text).timestamp() * 1000)


def test_publish_and_live_pacing(rds, test_settings):
    s = test_settings
    city = bootstrap.city_map(s)
    streams = s.streams
    assert publish(rds, streams, [("iot", {"a": "1"})] * 4500, pipeline_size=2000) == 4500
    assert rds.xlen(s.stream_iot) == 4500
    rds.delete(s.stream_iot)

    sim = CitySimulation(city, SimConfig(seed=42, sensors=300, readings_per_s=1000.0, complaints_per_hour=600.0,
                                         datacenter_sites=4, scheduled_incidents=False))
    start = int(time.time() * 1000)
    run_live(sim, rds, streams, start, duration_s=0.6, stop=threading.Event(), tick_s=0.1)
    readings = rds.xrange(s.stream_iot)
    assert 595 <= len(readings) <= 600
    assert all(start <= _ts_ms(f[b"ts"]) < start + 600 for _, f in readings)
