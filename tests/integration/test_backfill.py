"""`ioc simulate backfill` against real TimescaleDB: a fresh schema gets whole days of history whose rollups
agree with the raw rows, and a second run writes nothing."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

import bootstrap
from cli.simulate import sim_config
from simulator.backfill import DAY_MS, backfill_database
from simulator.engine import CitySimulation
from simulator.history import SAMPLE_INTERVAL_S, coarse_rate, stretches
from tests.integration.conftest import count

NOW_MS = 1_764_504_000_000  # 2025-11-30 12:00 UTC: an injected clock, so the test never waits for real time
DAYS = 2
INTERVAL_S = 1800.0
LIVE_RATE = 5.0  # readings per second in the stretch from 24 h ago
LIVE_RATE_MS = 15 * 60_000


@pytest.fixture
def city_settings(test_settings):
    return test_settings.model_copy(update={"sim_sensors": 150, "sim_readings_per_s": LIVE_RATE})


def run_backfill(settings, now_ms: int = NOW_MS):
    config = dataclasses.replace(sim_config(settings), datacenter_interval_s=SAMPLE_INTERVAL_S)
    sim = CitySimulation(bootstrap.city_map(settings), config)
    coarse = coarse_rate(len(sim.channels), INTERVAL_S)

    def plan(start_ms: int, end_ms: int, at_ms: int):
        return stretches(start_ms, end_ms, at_ms, coarse, LIVE_RATE, LIVE_RATE_MS)

    conn = bootstrap.db_connection(settings)
    try:
        filled = backfill_database(sim, conn, bootstrap.parse_context(settings), DAYS, plan, wall_ms=lambda: now_ms)
    finally:
        conn.close()
    return sim, filled


def readings_per_day(db: psycopg.Connection, now_ms: int) -> list[int]:
    return [
        count(db, "SELECT count(*) FROM sensor_readings WHERE ts >= to_timestamp(%s / 1000.0) "
                  "AND ts < to_timestamp(%s / 1000.0)", now_ms - (d + 1) * DAY_MS, now_ms - d * DAY_MS)
        for d in range(DAYS)
    ]  # fmt: skip


def assert_rollups_match_raw_rows(db: psycopg.Connection) -> None:
    for grain, unit in (("1m", "minute"), ("1h", "hour")):
        mismatched = count(db, f"""
            WITH raw AS (SELECT district, kind, metric, date_trunc('{unit}', ts) AS bucket, count(*) AS n,
                                sum(value) AS total, min(value) AS low, max(value) AS high
                         FROM sensor_readings GROUP BY 1, 2, 3, 4)
            SELECT count(*) FROM raw FULL JOIN sensor_rollup_{grain} r USING (district, kind, metric, bucket)
            WHERE raw.n IS DISTINCT FROM r.readings OR abs(raw.total - r.value_sum) > 1e-6 * greatest(1, abs(raw.total))
               OR raw.low IS DISTINCT FROM r.value_min OR raw.high IS DISTINCT FROM r.value_max
        """)  # fmt: skip
        assert mismatched == 0, f"sensor_rollup_{grain} disagrees with sensor_readings in {mismatched} groups"
        assert count(db, f"SELECT coalesce(sum(samples), 0) FROM datacenter_rollup_{grain}") == count(
            db, "SELECT count(*) FROM datacenter_samples"
        )
        assert count(db, f"SELECT coalesce(sum(events), 0) FROM complaint_rollup_{grain}") == count(
            db, "SELECT count(*) FROM complaint_events"
        )
    assert count(db, "SELECT count(DISTINCT request_id) FROM complaint_events") == count(
        db, "SELECT count(*) FROM complaints"
    )


def test_a_fresh_schema_gets_whole_days_of_consistent_history_and_a_second_run_does_nothing(city_settings, db):
    sim, filled = run_backfill(city_settings)
    channels = len(sim.channels)
    assert filled is not None and (filled.start_ms, filled.end_ms) == (NOW_MS - DAYS * DAY_MS, NOW_MS)

    # Every metric reports once per interval; the 25 minutes from 24 h 10 min ago are at the live rate.
    coarse_day = channels * 86_400 / INTERVAL_S
    dense_extra = (LIVE_RATE - channels / INTERVAL_S) * (LIVE_RATE_MS + 10 * 60_000) / 1000
    days = readings_per_day(db, NOW_MS)
    assert all(day >= coarse_day - 2 for day in days)
    assert sum(days) == pytest.approx(DAYS * coarse_day + dense_extra, abs=3)
    # the live-rate stretch straddles 24 h ago: the 10 minutes before it and 15 after
    dense = count(db, "SELECT count(*) FROM sensor_readings WHERE ts >= to_timestamp(%s / 1000.0) "
                      "AND ts < to_timestamp(%s / 1000.0)",
                  NOW_MS - DAY_MS - 10 * 60_000, NOW_MS - DAY_MS + LIVE_RATE_MS)  # fmt: skip
    assert dense == pytest.approx(LIVE_RATE * (LIVE_RATE_MS + 10 * 60_000) / 1000, abs=2)
    assert count(db, "SELECT count(*) FROM sensor_latest") == channels
    sites = len(sim.sites)
    assert count(db, "SELECT count(*) FROM datacenter_samples") == pytest.approx(
        sites * DAYS * 86_400 / SAMPLE_INTERVAL_S, abs=sites
    )
    assert count(db, "SELECT count(*) FROM datacenter_latest") == sites
    assert count(db, "SELECT count(*) FROM complaints WHERE status = 'closed'") > 100
    assert_rollups_match_raw_rows(db)

    totals = [count(db, f"SELECT count(*) FROM {t}") for t in ("sensor_readings", "complaint_events",
                                                                 "datacenter_samples", "sensor_rollup_1m")]  # fmt: skip
    _, again = run_backfill(city_settings, NOW_MS + 30_000)  # a second run moments later
    assert again is None
    assert totals == [count(db, f"SELECT count(*) FROM {t}") for t in ("sensor_readings", "complaint_events",
                                                                         "datacenter_samples", "sensor_rollup_1m")]


def test_a_later_run_fills_only_the_gap_since_the_newest_reading(city_settings, db):
    run_backfill(city_settings)
    before = count(db, "SELECT count(*) FROM sensor_readings")
    _, later = run_backfill(city_settings, NOW_MS + 3 * 3_600_000)  # the IOC was off for three hours
    assert later is not None and later.start_ms > NOW_MS - 60_000 and later.end_ms == NOW_MS + 3 * 3_600_000
    assert count(db, "SELECT count(*) FROM sensor_readings") - before == later.readings > 0
    assert count(db, "SELECT count(*) FROM sensor_readings WHERE ts < to_timestamp(%s / 1000.0)",
                 NOW_MS - DAYS * DAY_MS) == 0  # fmt: skip
    assert_rollups_match_raw_rows(db)
