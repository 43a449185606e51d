"""Batch aggregation into rollups and current state: exact, additive, order-independent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import rollups
from storage.event_store import complaint_states, latest_readings, latest_samples
from streams.complaints import ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading

T0 = datetime(2026, 11, 24, 8, 59, 30, tzinfo=UTC)


def reading(value: float, at: datetime, device: str = "d1", district: str = "futian") -> SensorReading:
    return SensorReading(at, device, "air_quality", "pm25", value, "ug/m3", 22.5, 114.0, district, None, "1-0")


def test_sensor_minutes_count_sum_min_max_per_district_metric_minute():
    groups = rollups.sensor_minutes([
        reading(10, T0), reading(30, T0 + timedelta(seconds=20)), reading(5, T0 + timedelta(seconds=40)),
        reading(7, T0, district="nanshan"),
    ])  # fmt: skip
    assert groups[("futian", "air_quality", "pm25", T0.replace(second=0))] == [2, 40.0, 10, 30]
    assert groups[("futian", "air_quality", "pm25", T0.replace(minute=0, hour=9, second=0))] == [1, 5.0, 5, 5]
    assert groups[("nanshan", "air_quality", "pm25", T0.replace(second=0))] == [1, 7.0, 7, 7]


def test_hours_fold_from_minutes_exactly():
    minute_table = rollups.SENSOR_ROLLUPS[0]
    minutes = rollups.sensor_minutes([reading(v, T0 + timedelta(minutes=v)) for v in range(1, 120)])
    hours = rollups.to_hours(minutes, minute_table)
    # 08:59:30 + v minutes: v = 1..60 fall in the 09:00 hour, v = 61..119 in the 10:00 hour
    nine = hours[("futian", "air_quality", "pm25", datetime(2026, 11, 24, 9, tzinfo=UTC))]
    ten = hours[("futian", "air_quality", "pm25", datetime(2026, 11, 24, 10, tzinfo=UTC))]
    assert nine == [60, float(sum(range(1, 61))), 1, 60]
    assert ten == [59, float(sum(range(61, 120))), 61, 119]


def test_datacenter_minutes_keep_sums_for_energy_weighted_pue():
    at = T0.replace(second=0)
    groups = rollups.datacenter_minutes([
        PowerSample(at, "dc1", 1200.0, 1000.0, 24.0, None, None, "1-0"),
        PowerSample(at + timedelta(seconds=30), "dc1", 2600.0, 2000.0, None, None, None, "2-0"),
    ])  # fmt: skip
    samples, facility, it, inlet_n, inlet_sum, inlet_max = groups[("dc1", at)]
    assert (samples, inlet_n, inlet_sum, inlet_max) == (2, 1, 24.0, 24.0)
    # energy-weighted PUE 3800/3000, not the mean of the instantaneous ratios (1.2 + 1.3) / 2
    assert facility / it == 3800 / 3000


def test_latest_reading_per_device_metric_wins_by_time_not_arrival():
    rows = latest_readings([reading(2, T0 + timedelta(seconds=5)), reading(1, T0), reading(9, T0, device="d2")])
    assert sorted((r.device_id, r.value) for r in rows) == [("d1", 2), ("d2", 9)]
    same_time = latest_readings([reading(3, T0), reading(4, T0)])
    assert [r.value for r in same_time] == [4]  # the later entry
    newest = latest_samples(
        [
            PowerSample(T0, "dc1", 2, 1, None, None, None, "1-0"),
            PowerSample(T0 - timedelta(1), "dc1", 3, 1, None, None, None, "2-0"),
        ]
    )
    assert newest[0][2] == 2


def test_complaint_state_from_a_whole_life_in_one_batch():
    def ev(status: str, minutes: int, sat: int | None = None, desc: str | None = None) -> ComplaintEvent:
        return ComplaintEvent(
            T0 + timedelta(minutes=minutes),
            "SZ-9",
            status,
            "noise",
            "futian",
            22.5,
            114.0,
            "app",
            desc,
            sat,
            None,
            f"{minutes}-0",
        )

    [state] = complaint_states([ev("closed", 90, 4), ev("open", 0, desc="loud"), ev("in_progress", 30)])
    (request_id, status, *_rest) = state
    assert (request_id, status) == ("SZ-9", "closed")
    assert state[7] == "loud"  # description survives later events without one
    assert state[8] == T0  # opened_at
    assert state[9] == T0 + timedelta(minutes=30)  # in_progress_at
    assert state[10] == T0 + timedelta(minutes=90)  # closed_at
    assert state[11] == 4 and state[13] == 3  # satisfaction, events


def test_complaint_minutes_count_satisfied_from_three_up():
    events = [
        ComplaintEvent(T0, f"r{s}", "closed", "noise", "futian", 22.5, 114.0, "app", None, s, None, "1-0")
        for s in (1, 3, 5)
    ]
    [(key, measures)] = rollups.complaint_minutes(events).items()
    assert measures == [3, 3, 9, 2]
