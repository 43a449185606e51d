"""The simulator's ordinary day (how many sensors the map shows warning or critical) and the pure parts of the
back-fill: which stretches at which rate, what is left to fill, and the rows the writer gets."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

import pytest

import bootstrap
from live.thresholds import CRITICAL, WARNING, worst
from settings import Settings
from simulator.backfill import gap_to_fill
from simulator.clock import DAY_MS, HOUR_MS, day_start_ms
from simulator.engine import CitySimulation, SimConfig
from simulator.history import (
    OLD_SPARSER,
    RECENT_MS,
    YESTERDAY_LEAD_MS,
    ReadingMaker,
    Stretch,
    coarse_rate,
    stretches,
    to_batch,
)
from streams.iot import parse_reading

MINUTE_MS = 60_000
BANDS = bootstrap.status_bands(Settings())  # the shipped status bands (config/alert_rules.toml)


def make(city, sensors: int = 2000, incidents: bool = False) -> CitySimulation:
    return CitySimulation(city, SimConfig(seed=20261124, sensors=sensors, readings_per_s=200.0,
                                          complaints_per_hour=600.0, datacenter_sites=4,
                                          scheduled_incidents=incidents))  # fmt: skip


def status_shares(
    sim: CitySimulation, first_day: date, days: int, every_min: int, bands=BANDS
) -> tuple[Counter, float, float]:
    """Device statuses over snapshots of the whole fleet (every metric read once), judged by ``bands``, and the
    worst snapshot's warning and critical shares."""
    n = len(sim.channels)
    total: Counter = Counter()
    worst_warning = worst_critical = 0.0
    start = sim.clock.day_start_ms(first_day)
    for ms in range(start, start + days * DAY_MS, every_min * MINUTE_MS):
        values, _ = sim.window_values(ms, ms + 10_000, n / 10)
        by_device: dict[str, list[str]] = defaultdict(list)
        for index, _, value in values:
            channel = sim.channels[index]
            by_device[channel.device_id].append(bands.status(channel.kind, channel.metric, value, 0.0))
        snapshot = Counter(worst(s) for s in by_device.values())
        total += snapshot
        worst_warning = max(worst_warning, snapshot[WARNING] / len(by_device))
        worst_critical = max(worst_critical, snapshot[CRITICAL] / len(by_device))
    return total, worst_warning, worst_critical


@pytest.mark.parametrize("first_day", [date(2026, 11, 23), date(2026, 7, 18)])  # a winter week, a summer weekend
def test_an_ordinary_day_has_few_warnings_and_no_criticals(city, first_day):
    total, worst_warning, worst_critical = status_shares(make(city), first_day, days=1, every_min=30)
    devices = sum(total.values())
    assert total[WARNING] / devices <= 0.02
    assert total[CRITICAL] / devices <= 0.003
    assert worst_warning <= 0.05  # even at the peak of the evening rush
    assert worst_critical <= 0.003


def test_a_flood_turns_its_gauge_critical(city):
    sim = make(city, sensors=300)
    flood = sim.trigger("flood", day_start_ms(date(2026, 7, 20)) + 14 * HOUR_MS)
    hold = flood.start_ms + 50 * MINUTE_MS
    values, _ = sim.window_values(hold, hold + 10_000, len(sim.channels) / 10)
    statuses = {sim.channels[i].device_id: BANDS.status("water_level", sim.channels[i].metric, v, 0.0)
                for i, _, v in values if sim.channels[i].kind == "water_level"}  # fmt: skip
    assert statuses[flood.target] == CRITICAL
    assert Counter(statuses.values())[CRITICAL] == 1


def test_history_is_sparser_before_two_days_and_at_the_live_rate_from_yesterday_at_this_time():
    now = 100 * DAY_MS
    plan = stretches(now - 7 * DAY_MS, now, now, coarse_per_s=4.0, live_per_s=200.0, live_rate_ms=HOUR_MS)
    dense_start = now - DAY_MS - YESTERDAY_LEAD_MS
    assert plan == [
        Stretch(now - 7 * DAY_MS, now - RECENT_MS, 4.0 / OLD_SPARSER),
        Stretch(now - RECENT_MS, dense_start, 4.0),
        Stretch(dense_start, dense_start + YESTERDAY_LEAD_MS + HOUR_MS, 200.0),
        Stretch(dense_start + YESTERDAY_LEAD_MS + HOUR_MS, now, 4.0),
    ]
    assert stretches(now - HOUR_MS, now, now, 4.0, 200.0, HOUR_MS) == [Stretch(now - HOUR_MS, now, 4.0)]
    assert stretches(now - RECENT_MS, now, now, 4.0, 200.0, 0) == [Stretch(now - RECENT_MS, now, 4.0)]
    # a gap that starts inside the dense hour keeps only the rest of it
    inside = dense_start + HOUR_MS // 2
    assert stretches(inside, now, now, 4.0, 200.0, HOUR_MS)[0] == Stretch(
        inside, dense_start + YESTERDAY_LEAD_MS + HOUR_MS, 200.0
    )
    assert stretches(now, now, now, 4.0, 200.0, HOUR_MS) == []
    assert coarse_rate(2400, 600.0) == 4.0


def test_only_the_missing_part_is_filled():
    now = 1_000 * DAY_MS
    assert gap_to_fill(None, now, 7) == (now - 7 * DAY_MS, now)
    assert gap_to_fill(now - 30_000, now, 7) is None  # history reaches (almost) now: a second run does nothing
    assert gap_to_fill(now - 2 * HOUR_MS, now, 7) == (now - 2 * HOUR_MS + 1, now)  # resumes after the newest row
    assert gap_to_fill(now - 30 * DAY_MS, now, 7) == (now - 7 * DAY_MS, now)  # never more than the days asked
    assert gap_to_fill(None, now, 0) is None


def test_every_metric_reports_once_per_interval_in_turn(city):
    sim = make(city, sensors=200)
    n = len(sim.channels)
    values, _ = sim.window_values(day_start_ms(date(2026, 11, 24)), day_start_ms(date(2026, 11, 24)) + 600_000,
                                  coarse_rate(n, 600.0))  # fmt: skip
    assert sorted(i for i, _, _ in values) == list(range(n))


def test_history_rows_are_what_the_ingest_makes_of_the_same_readings(city, ctx):
    sim, twin = make(city, sensors=100), make(city, sensors=100)
    start = day_start_ms(date(2026, 11, 24)) + 8 * HOUR_MS
    values, others = sim.window_values(start, start + MINUTE_MS, 20.0)
    batch = to_batch(values, others, start + MINUTE_MS, ReadingMaker(sim.channels), ctx)
    streamed = [f for k, f in twin.window(start, start + MINUTE_MS, 20.0) if k == "iot"]
    entry_id = f"{start + MINUTE_MS}-0".encode()
    parsed = [parse_reading({k.encode(): v.encode() for k, v in f.items()}, entry_id, ctx) for f in streamed]
    assert len(batch.readings) == len(parsed) > 0
    for mine, theirs in zip(batch.readings, parsed, strict=True):
        assert mine[:9] == theirs[:9]  # all but attrs and the entry id
    assert len({r.source_id for r in batch.readings + batch.complaints + batch.samples}) == len(batch)
    assert batch.samples and all(s.site for s in batch.samples)
