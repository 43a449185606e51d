"""The dashboard's read queries against a real TimescaleDB, fed through the real write path (EventStore)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import bootstrap
from cities import load_city
from live.queries import Windows, read_city
from settings import Settings
from storage.dashboard_queries import DashboardQueries
from storage.event_store import Batch, EventStore
from streams.complaints import ComplaintEvent
from streams.datacenter import PowerSample
from streams.iot import SensorReading

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
_source = itertools.count()


def _sid() -> str:
    return f"{next(_source)}-0"


def reading(device: str, ts: datetime, value: float, district: str = "futian", metric: str = "pm25") -> SensorReading:
    return SensorReading(ts, device, "air_quality", metric, value, "ug/m3", 22.54, 114.06, district, None, _sid())


def complaint(request_id: str, status: str, ts: datetime, category: str = "noise", district: str = "futian",
              satisfaction: int | None = None) -> ComplaintEvent:  # fmt: skip
    return ComplaintEvent(ts, request_id, status, category, district, 22.54, 114.06, "hotline", None, satisfaction,
                          None, _sid())  # fmt: skip


def sample(site: str, ts: datetime, facility_kw: float, it_kw: float, inlet: float = 24.0) -> PowerSample:
    return PowerSample(ts, site, facility_kw, it_kw, inlet, 45.0, None, _sid())


@pytest.fixture
def queries(test_settings: Settings) -> Iterator[DashboardQueries]:
    pool = bootstrap.dashboard_pool(test_settings)
    pool.open(wait=True, timeout=20)
    yield DashboardQueries(pool.connection)
    pool.close()


@pytest.fixture
def store(test_settings: Settings) -> Iterator[EventStore]:
    store = EventStore(bootstrap.db_connection(test_settings))
    yield store
    store.close()


def test_pue_is_energy_weighted_not_the_mean_of_ratios(store, queries):
    # 1 h at PUE 2.0 on 100 kW IT, 1 h at PUE 1.0 on 900 kW IT: energy-weighted 1100/1000 = 1.1, mean of ratios 1.5.
    start = NOW - timedelta(hours=3)
    store.write(Batch(samples=[sample("dc-a", start + timedelta(minutes=5), 200.0, 100.0),
                               sample("dc-a", start + timedelta(minutes=65), 900.0, 900.0)]))  # fmt: skip
    assert queries.datacenter_pue(start, NOW)["dc-a"] == pytest.approx(1.1)
    series = queries.datacenter_series(start, NOW)
    assert [round(r["pue"], 3) for r in series] == [2.0, 1.0]
    assert series[0]["facility_kw"] == pytest.approx(200.0) and series[0]["inlet_temp_max"] == 24.0
    long = queries.datacenter_pue(NOW - timedelta(days=7), NOW)  # the hour rollup agrees
    assert long["dc-a"] == pytest.approx(1.1)


def test_district_series_reads_the_rollups_and_device_series_the_raw_readings(store, queries):
    base = NOW - timedelta(minutes=30)
    store.write(Batch(readings=[reading("aq-1", base, 10.0), reading("aq-2", base + timedelta(seconds=5), 30.0),
                                reading("aq-3", base, 100.0, district="nanshan"),
                                reading("aq-1", base + timedelta(minutes=3), 50.0)]))  # fmt: skip
    rows = queries.district_series("pm25", NOW - timedelta(hours=1), NOW)
    futian = [r for r in rows if r["district"] == "futian"]
    assert [(r["readings"], r["mean"], r["low"], r["high"]) for r in futian] == [
        (2, 20.0, 10.0, 30.0), (1, 50.0, 50.0, 50.0)]
    assert type(futian[0]["readings"]) is int and type(futian[0]["mean"]) is float  # never Decimal
    only = queries.district_series("pm25", NOW - timedelta(days=1), NOW, districts=["nanshan"])
    assert [(r["district"], r["mean"]) for r in only] == [("nanshan", 100.0)]
    device = queries.device_series("aq-1", "pm25", NOW - timedelta(hours=6), NOW)
    assert sum(r["readings"] for r in device) == 2
    assert [r["value"] for r in queries.device_readings("aq-1", NOW - timedelta(hours=24), NOW)] == [10.0, 50.0]
    assert queries.sensor_metrics() == [{"kind": "air_quality", "metric": "pm25", "unit": "ug/m3"}]
    latest = queries.sensor_latest(districts=["futian"])
    assert {r["device_id"]: r["value"] for r in latest} == {"aq-1": 50.0, "aq-2": 30.0}
    assert queries.sensor_latest(kinds=["traffic"]) == []


def test_complaint_queue_volume_sla_and_satisfaction(store, queries):
    t0 = NOW - timedelta(hours=20)
    store.write(Batch(complaints=[
        complaint("r-old", "open", t0), complaint("r-new", "in_progress", t0 + timedelta(hours=2), district="nanshan"),
        complaint("r-fast", "open", t0, category="garbage"), complaint("r-fast", "closed", t0 + timedelta(hours=1),
                                                                      category="garbage", satisfaction=5),
        complaint("r-slow", "open", NOW - timedelta(hours=40), category="garbage"),  # closed 35 h later: past SLA
        complaint("r-slow", "closed", NOW - timedelta(hours=5), category="garbage", satisfaction=2),
    ]))  # fmt: skip
    queue = queries.open_complaints()
    assert [r["request_id"] for r in queue] == ["r-old", "r-new"]
    assert queries.open_complaints_by_district() == {"futian": 1, "nanshan": 1}
    volume = queries.complaint_volume(NOW - timedelta(hours=24), NOW)
    assert {(r["category"], r["requests"]) for r in volume} == {("noise", 1), ("garbage", 1)}
    assert queries.complaints_by_district(NOW - timedelta(hours=24), NOW) == {"futian": 2}
    kpi = load_city("shenzhen").file.kpi
    sla = queries.sla_by_category(NOW - timedelta(days=1), NOW + timedelta(minutes=1), kpi.sla_hours,
                                  kpi.sla_default_hours)  # fmt: skip
    assert [(r["category"], r["closed"], r["within_sla"], r["sla_hours"]) for r in sla] == [
        ("garbage", 2, 1, kpi.sla_hours["garbage"])]
    days = queries.satisfaction_daily(NOW - timedelta(days=30), NOW + timedelta(hours=1), "Asia/Shanghai")
    assert sum(r["ratings"] for r in days) == 2 and sum(r["satisfied"] for r in days) == 1
    assert sum(r["rating_sum"] for r in days) == 7
    assert all(r["day"].utcoffset() == timedelta(hours=8) and r["day"].hour == 0 for r in days)


def test_devices_heard_at_the_same_time_yesterday_for_the_online_trend(store, test_settings):
    then = NOW - timedelta(days=1)
    store.write(Batch(readings=[
        reading("aq-1", then - timedelta(minutes=5), 1.0), reading("aq-1", NOW, 1.0),
        reading("aq-2", then - timedelta(minutes=30), 1.0), reading("aq-2", NOW, 1.0),  # quiet at that time
        reading("aq-3", then - timedelta(minutes=2), 1.0, metric="pm10"), reading("aq-3", NOW, 1.0),  # another metric
        reading("aq-4", NOW, 1.0),  # new since
    ]))  # fmt: skip
    with bootstrap.db_connection(test_settings) as conn:
        facts = read_city(conn, Windows.at(NOW, "Asia/Shanghai"))
    assert facts.devices_seen_yesterday == 2
