"""The live snapshot's pure parts: sensor status, KPIs with yesterday, energy-weighted PUE, part digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import bootstrap
from live import snapshot
from live.queries import CityFacts, Windows
from live.snapshot import energy_kpis
from live.thresholds import CRITICAL, NORMAL, STALE, WARNING, worst
from settings import Settings

BANDS = bootstrap.status_bands(Settings())  # the shipped config/alert_rules.toml


def assemble(city: CityFacts, **options) -> dict:
    return snapshot.assemble(city, BANDS, **options)

NOW = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # 14:30 in Shenzhen


def facts(**fields) -> CityFacts:
    return CityFacts(windows=Windows.at(NOW, "Asia/Shanghai"), **fields)


def reading(device: str, metric: str, kind: str, value: float, age_s: float = 10) -> tuple:
    return (device, metric, kind, "futian", 22.54, 114.06, value, "u", int((NOW.timestamp() - age_s) * 1000))


@pytest.mark.parametrize(("kind", "metric", "value", "age_s", "status"), [
    ("air_quality", "pm25", 30, 10, NORMAL), ("air_quality", "pm25", 75, 10, WARNING),
    ("air_quality", "pm25", 115, 10, CRITICAL), ("traffic", "speed_kmh", 15, 10, WARNING),
    ("traffic", "speed_kmh", 8, 10, CRITICAL), ("traffic", "speed_kmh", 60, 10, NORMAL),
    ("power", "load_mw", 9e9, 10, NORMAL), ("noise", "laeq_db", 50, 301, STALE),
    ("air_quality", "pm25", 30, 14 * 60, NORMAL), ("unknown_kind", "x", 1, 11 * 60, STALE),
])  # fmt: skip
def test_the_shipped_bands_judge_readings(kind, metric, value, age_s, status):
    assert BANDS.status(kind, metric, value, age_s) == status


def test_worst_status_wins_and_stale_beats_critical():
    assert worst([NORMAL, WARNING]) == WARNING
    assert worst([CRITICAL, STALE, NORMAL]) == STALE
    assert BANDS.stale_after("traffic") == 300


def test_windows_start_the_day_in_the_city_time_zone():
    w = Windows.at(datetime(2026, 11, 24, 17, 0, tzinfo=UTC), "Asia/Shanghai")  # 01:00 on the 25th locally
    assert w.today.isoformat() == "2026-11-25T00:00:00+08:00"
    assert w.yesterday.isoformat() == "2026-11-24T00:00:00+08:00"
    assert w.same_time_yesterday == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_a_device_takes_its_worst_metric_and_devices_online_counts_non_stale():
    doc = assemble(facts(sensors=[reading("aq-1", "pm10", "air_quality", 300),
                                  reading("aq-1", "pm25", "air_quality", 20),
                                  reading("tr-1", "speed_kmh", "traffic", 50, age_s=3600)],
                         devices_seen_yesterday=1, readings_yesterday=40))  # fmt: skip
    by_id = {s["id"]: s for s in doc["sensors"]}
    assert by_id["aq-1"]["status"] == CRITICAL and by_id["tr-1"]["status"] == STALE
    assert doc["kpis"]["devices_online_pct"] == {"value": 50.0, "yesterday": 50.0}
    assert doc["sensor_counts"] == {NORMAL: 0, WARNING: 0, CRITICAL: 1, STALE: 1}
    assert doc["newest_ms"] == int((NOW - timedelta(seconds=10)).timestamp() * 1000)


def test_a_first_run_has_no_figure_for_yesterday_rather_than_zero():
    doc = assemble(facts(sensors=[reading("aq-1", "pm25", "air_quality", 20)],
                         complaint_events=[("open", True, 3, 0, 0)], open_now=3))  # fmt: skip
    kpis = doc["kpis"]
    assert kpis["devices_online_pct"] == {"value": 100.0, "yesterday": None}
    assert kpis["readings_per_min"]["yesterday"] is None
    assert kpis["complaints_today"] == {"value": 3, "yesterday": None}
    assert kpis["complaints_open"] == {"value": 3, "yesterday": None}


def test_pue_is_energy_weighted_never_a_mean_of_ratios():
    # Two sites: 1000 kW IT at PUE 1.2 and 100 kW IT at PUE 2.0: energy-weighted 1.2727, mean of ratios 1.6.
    energy = {"day_fac": 1200.0 + 200.0, "day_it": 1000.0 + 100.0, "prevday_fac": 1600.0, "prevday_it": 1000.0}
    kpis = energy_kpis(energy, 1.6)
    assert kpis["pue_24h"]["value"] == pytest.approx(1400 / 1100)
    assert kpis["energy_saved_pct"]["value"] == pytest.approx(100 * (1 - (1400 / 1100) / 1.6))
    assert kpis["energy_saved_pct"]["yesterday"] == pytest.approx(0.0)
    assert kpis["pue_now"]["value"] is None  # no samples in the window: no figure, not zero


def test_complaint_kpis_split_today_from_the_same_time_yesterday():
    doc = assemble(facts(
        complaint_events=[("open", True, 12, 0, 0), ("open", False, 8, 0, 0), ("closed", True, 5, 4, 3),
                          ("closed", False, 5, 5, 5)],
        open_now=30, open_yesterday=20, closures={True: (5, 4, 7200.0), False: (5, 5, 3600.0)},
    ))  # fmt: skip
    kpis = doc["kpis"]
    assert kpis["complaints_today"] == {"value": 12, "yesterday": 8}
    assert kpis["complaints_open"] == {"value": 30, "yesterday": 20}
    assert kpis["satisfaction_pct"] == {"value": 75.0, "yesterday": 100.0}
    assert kpis["sla_share_pct"] == {"value": 80.0, "yesterday": 100.0}
    assert kpis["median_close_h"] == {"value": 2.0, "yesterday": 1.0}


def test_alerts_are_honestly_unavailable_until_alerting_exists():
    doc = assemble(facts())
    assert doc["alerts"] == {"available": False, "items": []}
    assert doc["kpis"]["alerts_open"]["available"] is False


def test_digests_change_only_for_the_parts_that_changed():
    base = [reading("aq-1", "pm25", "air_quality", 20), reading("ns-1", "laeq_db", "noise", 50)]
    first = assemble(facts(sensors=base, readings_now=50))
    value_moved = assemble(facts(sensors=[reading("aq-1", "pm25", "air_quality", 21), base[1]], readings_now=60))
    status_moved = assemble(facts(sensors=[reading("aq-1", "pm25", "air_quality", 90), base[1]], readings_now=50))
    assert value_moved["digests"]["sensors"] == first["digests"]["sensors"]  # the map does not show values
    assert value_moved["digests"]["kpi:readings_per_min"] != first["digests"]["kpi:readings_per_min"]
    assert value_moved["digests"]["kpi:pue_now"] == first["digests"]["kpi:pue_now"]
    assert status_moved["digests"]["sensors"] != first["digests"]["sensors"]


def open_alert(alert_id: int, severity: str, subject: str, lat: float | None = None, lon: float | None = None):
    return (alert_id, severity, "pm25_high", subject, f"PM2.5 at {subject}", "firing", NOW, 180.0, None, lat, lon)


def test_open_alerts_are_placed_by_device_or_district_and_counted_by_severity():
    doc = assemble(facts(alerts_table=True, alerts_ever=True, alerts_by_severity={"critical": 2, "warning": 1},
                         open_alerts=[open_alert(1, "critical", "aq-1", 22.5, 114.0),
                                      open_alert(2, "critical", "futian"), open_alert(3, "warning", "city")]),
                   district_centres={"futian": (22.54, 114.05)})  # fmt: skip
    items = {a["id"]: a for a in doc["alerts"]["items"]}
    assert doc["alerts"]["available"] is True
    assert (items[1]["lat"], items[1]["lon"]) == (22.5, 114.0)  # the device's own position
    assert (items[2]["lat"], items[2]["lon"]) == (22.54, 114.05)  # the district's centre
    assert items[3]["lat"] is None  # the city as a whole has no point on the map
    assert items[1]["at_ms"] == int(NOW.timestamp() * 1000) and items[1]["title"] == "PM2.5 at aq-1"
    assert doc["kpis"]["alerts_open"]["value"] == 3
    assert doc["kpis"]["alerts_open"]["by_severity"] == {"critical": 2, "warning": 1, "info": 0}


def test_alerts_count_as_available_once_an_evaluator_runs_even_before_anything_fired():
    assert assemble(facts(alerts_table=True))["alerts"]["available"] is False  # table, but never evaluated
    running = assemble(facts(alerts_table=True), alerting_running=True)
    assert running["alerts"] == {"available": True, "items": []}
    assert running["kpis"]["alerts_open"]["value"] == 0
    assert assemble(facts(), alerting_running=True)["alerts"]["available"] is False  # not migrated


def test_the_alert_markers_digest_moves_only_with_placed_alerts():
    placed = facts(alerts_table=True, alerts_ever=True, open_alerts=[open_alert(1, "critical", "aq-1", 22.5, 114.0)])
    unplaced = facts(alerts_table=True, alerts_ever=True, open_alerts=[open_alert(1, "critical", "aq-1", 22.5, 114.0),
                                                                         open_alert(2, "info", "city")])  # fmt: skip
    first, second = assemble(placed), assemble(unplaced)
    assert first["digests"]["alert_markers"] == second["digests"]["alert_markers"]
    assert first["digests"]["alerts"] != second["digests"]["alerts"]
