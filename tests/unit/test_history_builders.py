"""The history page's pure builders and the query shapes behind every ranged page."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from layouts import history
from layouts.time_range import RANGES, step_label, window
from storage.dashboard_queries import ROLLUP_TABLES, bucket_step, rollup_grain, rollup_table

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("choice", "grain", "step"), [
    ("1h", "1m", timedelta(minutes=1)), ("6h", "1m", timedelta(minutes=5)), ("24h", "1h", timedelta(hours=1)),
    ("7d", "1h", timedelta(hours=1)), ("30d", "1h", timedelta(hours=6)),
])  # fmt: skip
def test_ranges_up_to_six_hours_read_minute_rollups_and_longer_ones_hour_rollups(choice, grain, step):
    span = RANGES[choice]
    assert rollup_grain(span) == grain
    assert bucket_step(span) == step
    assert step >= {"1m": timedelta(minutes=1), "1h": timedelta(hours=1)}[grain]  # never finer than the rollup


def test_rollup_tables_come_from_a_closed_list():
    assert rollup_table("sensor", timedelta(hours=6)).as_string() == '"sensor_rollup_1m"'
    assert rollup_table("datacenter", timedelta(days=2)).as_string() == '"datacenter_rollup_1h"'
    assert set(ROLLUP_TABLES.values()) == {f"{f}_rollup_{g}" for f in ("sensor", "complaint", "datacenter")
                                           for g in ("1m", "1h")}  # fmt: skip


def test_window_and_step_labels():
    assert window("7d", NOW) == (NOW - timedelta(days=7), NOW)
    assert window("nonsense", NOW) == (NOW - timedelta(hours=24), NOW)
    assert [step_label(timedelta(minutes=m)) for m in (1, 5, 60, 360)] == ["1 min", "5 min", "hour", "6 h"]


def test_metric_options_name_kind_metric_and_unit_once_per_metric():
    metrics = [{"kind": "air_quality", "metric": "pm25", "unit": "ug/m3"},
               {"kind": "traffic", "metric": "speed_kmh", "unit": "km/h"},
               {"kind": "other", "metric": "pm25", "unit": "ug/m3"}]
    assert history.metric_options(metrics) == [{"label": "air quality · PM2.5 (ug/m3)", "value": "pm25"},
                                               {"label": "traffic · speed (km/h)", "value": "speed_kmh"}]


def test_series_figure_draws_one_line_per_district_or_device():
    rows = history.labelled([{"bucket": NOW, "district": "futian", "readings": 2, "mean": 1.5, "low": 1, "high": 2},
                             {"bucket": NOW, "district": "luohu", "readings": 1, "mean": 3.0, "low": 3, "high": 3}])
    fig = history.series_figure(rows, "pm25")
    assert [t.name for t in fig.data] == ["futian", "luohu"]
    device = history.labelled([{"bucket": NOW, "readings": 1, "mean": 2.0, "low": 2, "high": 2}], "aq-1")
    assert [t.name for t in history.series_figure(device, "pm25").data] == ["aq-1"]
    assert "no data" in history.series_figure([], "pm25").layout.title.text


def test_csv_has_a_header_and_iso_times_with_offsets():
    rows = history.labelled([{"bucket": NOW, "district": "futian", "readings": 2, "mean": 1.5, "low": 1.0,
                              "high": 2.0}])  # fmt: skip
    parsed = list(csv.reader(io.StringIO(history.series_csv(rows))))
    assert parsed == [list(history.CSV_COLUMNS), ["2026-11-24T08:00:00+00:00", "futian", "2", "1.5", "1.0", "2.0"]]


def test_export_filename_is_safe():
    assert history.export_filename("pm25", "futian-luohu", "24h", NOW) == "pm25_futian-luohu_24h_20261124T0800.csv"
    assert "/" not in history.export_filename("pm25", "../etc/passwd", "1h", NOW)
