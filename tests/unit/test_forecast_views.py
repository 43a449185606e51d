"""Predicted alerts and forecasts as the views show them: the snapshot's lead time, the alert lists, the map's
markers, and the forecast drawn after a chart's series (forecast/charts.py, live/snapshot.py, layouts/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from callbacks.city_map import device_forecasts
from forecast.charts import DEFAULT, chart_forecast, series_projection, step_means
from layouts.city_map import alert_features, device_history_figure
from layouts.live import alerts_list, first_expected
from live.queries import CityFacts, Windows
from tests.unit.test_live_layouts import text
from tests.unit.test_live_snapshot import assemble

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def rule(**fields) -> SimpleNamespace:
    base = {"type": "forecast", "source": "iot", "subject": "device", "metric": "level_m", "match": {},
            "window_s": 600.0, "horizon_s": 1200.0, "step_s": 60.0, "confidence": 0.9, "threshold": 4.5, "id": "wl"}
    return SimpleNamespace(**(base | fields))


def predicted_row(alert_id: int, subject: str, expected_in_min: float) -> tuple:
    expected = NOW + timedelta(minutes=expected_in_min)
    return (alert_id, "warning", "wl_forecast", subject, f"{subject} will reach 4.5 m", "firing", NOW, 3.9, None,
            22.5, 114.0, True, NOW - timedelta(minutes=1), expected, expected - timedelta(minutes=5),
            expected + timedelta(minutes=6))  # fmt: skip


def test_the_snapshot_carries_a_predicted_alerts_forecast_and_lead_in_minutes():
    firing = (9, "critical", "pm25_high", "aq-1", "PM2.5 high", "firing", NOW, 180.0, None, 22.5, 114.0,
              False, None, None, None, None)  # fmt: skip
    doc = assemble(CityFacts(windows=Windows.at(NOW, "Asia/Shanghai"), alerts_table=True, alerts_ever=True,
                             open_alerts=[firing, predicted_row(1, "wl-1", 25.4), predicted_row(2, "wl-2", -3)]))
    items = {a["id"]: a for a in doc["alerts"]["items"]}
    assert "predicted" not in items[9]
    assert items[1]["predicted"] and items[1]["lead_min"] == 25
    assert items[1]["expected_ms"] == int((NOW + timedelta(minutes=25.4)).timestamp() * 1000)
    assert items[2]["lead_min"] == 0  # its time has passed: due now, never a negative lead
    assert items[1]["counted_from_ms"] == int(NOW.timestamp() * 1000)  # what the views count "in about …" from


def test_lists_put_predicted_alerts_first_soonest_first_with_their_lead():
    items = [{"id": 9, "severity": "critical", "at_ms": 0, "rule": "r", "subject": "aq-1", "title": "PM2.5 high"},
             {"id": 1, "severity": "warning", "at_ms": 0, "rule": "r", "subject": "wl-1", "title": "wl-1 later",
              "predicted": True, "expected_ms": 2_000, "lead_min": 25},
             {"id": 2, "severity": "warning", "at_ms": 0, "rule": "r", "subject": "wl-2", "title": "wl-2 sooner",
              "predicted": True, "expected_ms": 1_000, "lead_min": 0}]  # fmt: skip
    assert [a["id"] for a in first_expected(items)] == [2, 1, 9]
    shown = text(alerts_list({"available": True, "items": items}, "Asia/Shanghai"))
    assert shown.index("wl-2 sooner") < shown.index("wl-1 later") < shown.index("PM2.5 high")
    assert "predicted due now wl-2 sooner" in shown and "predicted in 25 minutes wl-1 later" in shown


def test_a_predicted_marker_carries_its_lead_in_words():
    features = alert_features([{"id": 1, "severity": "warning", "rule": "r", "subject": "wl-1", "title": "x",
                                "summary": "x", "lat": 22.5, "lon": 114.0, "predicted": True, "lead_min": 12},
                               {"id": 2, "severity": "critical", "rule": "r", "subject": "aq-1", "title": "y",
                                "summary": "y", "lat": 22.5, "lon": 114.0}])["features"]  # fmt: skip
    assert features[0]["properties"]["predicted"] and features[0]["properties"]["lead"] == "in 12 minutes"
    assert "predicted" not in features[1]["properties"]


def test_a_chart_follows_the_forecast_rule_watching_its_series_else_the_defaults():
    rules = [rule(type="threshold"), rule(match={"kind": frozenset({"water_level"})})]
    assert chart_forecast(rules, "water_level", "level_m").threshold == 4.5
    assert chart_forecast(rules, "air_quality", "level_m") == DEFAULT  # another kind
    assert chart_forecast(rules, "water_level", "level_m", "district") == DEFAULT  # the rule is per device
    assert chart_forecast([], None, "pm25") == DEFAULT


def test_a_series_is_averaged_per_step_and_projected_only_with_enough_recent_points():
    assert step_means([0, 10, 70, 130], [1.0, 3.0, 5.0, 7.0], 60) == ([30.0, 90.0, 150.0], [2.0, 5.0, 7.0])
    times = [NOW.timestamp() - 60 * k for k in range(20, -1, -1)]
    values = [1.0 + 0.05 * k for k in range(21)]
    settings = rule()
    projection = series_projection(times, values, settings)
    assert projection is not None and projection.times[-1] - projection.times[0] == pytest.approx(1200)
    assert projection.mean[-1] > values[-1]  # rising, and carried on rising
    assert all(lo <= m <= hi for lo, m, hi in zip(projection.low, projection.mean, projection.high, strict=True))
    assert series_projection(times[:2], values[:2], settings) is None
    assert series_projection([], [], settings) is None


def test_the_sensor_chart_draws_the_band_the_line_and_the_rules_level_after_each_series():
    readings = [{"ts": NOW - timedelta(minutes=m), "metric": "level_m", "unit": "m", "value": 3.0 - 0.05 * m}
                for m in range(20, -1, -1)]  # fmt: skip
    forecasts = device_forecasts(readings, [rule()], "water_level")
    names = [trace.name for trace in device_history_figure("wl-1", readings, forecasts).data]
    assert names == ["water level (m)", "forecast, 90% interval", "forecast", "forecast rule's level"]
    assert [t.name for t in device_history_figure("wl-1", readings[-2:], device_forecasts(readings[-2:], [], None))
            .data] == ["water level (m)"]  # two readings: nothing to fit
