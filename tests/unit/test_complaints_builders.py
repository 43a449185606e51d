"""The quick-response page's pure builders: volume, districts, SLA, satisfaction and the queue rows."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cities import load_city
from layouts import complaints
from live.sla import sla_hours

KPI = load_city("shenzhen").file.kpi

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_volume_stacks_one_bar_trace_per_category():
    rows = [{"bucket": NOW, "category": "noise", "requests": 3}, {"bucket": NOW, "category": "garbage", "requests": 2},
            {"bucket": NOW + timedelta(hours=1), "category": "noise", "requests": 1}]
    fig = complaints.volume_figure(rows, "hour")
    assert fig.layout.barmode == "stack"
    assert {t.name: list(t.y) for t in fig.data} == {"garbage": [2], "noise": [3, 1]}


def test_choropleth_fills_each_district_by_its_count_with_no_map_tiles(settings):
    geojson = json.loads(Path(settings.districts_geojson).read_text(encoding="utf-8"))
    fig = complaints.district_choropleth({"futian": 7, "luohu": 1}, geojson)
    districts = {t.name: t for t in fig.data if t.fill == "toself"}
    assert set(districts) == {f["properties"]["id"] for f in geojson["features"]}
    assert districts["futian"].customdata[0] == 7 and districts["nanshan"].customdata[0] == 0
    assert "Futian" in districts["futian"].text  # the name in the request's language (English outside one)
    # the busiest district gets the darkest shade
    assert districts["futian"].fillcolor != districts["nanshan"].fillcolor
    assert not any(t.type.endswith("map") for t in fig.data)


def test_sla_bars_are_the_share_closed_within_target():
    rows = [{"category": "noise", "closed": 4, "within_sla": 3, "sla_hours": 24.0},
            {"category": "garbage", "closed": 2, "within_sla": 2, "sla_hours": 24.0}]
    bar = complaints.sla_figure(rows).data[0]
    assert dict(zip(bar.y, bar.x, strict=True)) == {"noise": 75.0, "garbage": 100.0}


def test_satisfaction_is_mean_rating_and_share_rated_three_or_more():
    rows = [{"day": NOW, "ratings": 4, "rating_sum": 14, "satisfied": 3},
            {"day": NOW + timedelta(days=1), "ratings": 0, "rating_sum": 0, "satisfied": 0}]
    mean, share = complaints.satisfaction_figure(rows).data
    assert list(mean.y) == [3.5] and list(share.y) == [75.0]


def test_queue_rows_carry_age_sla_due_and_overdue():
    opened = NOW - timedelta(hours=30)
    rows = [{"request_id": "r1", "status": "open", "category": "noise", "district": "futian", "channel": "app",
             "description": None, "opened_at": opened, "in_progress_at": None, "updated_at": opened}]
    (shown,) = complaints.queue_rows(rows, NOW, "UTC", KPI)
    assert shown["age_h"] == 30.0 and shown["description"] == ""
    assert shown["overdue"] is (sla_hours("noise", KPI) < 30)
    assert shown["sla_due"] == (opened + timedelta(hours=sla_hours("noise", KPI))).strftime("%Y-%m-%d %H:%M")


def test_unknown_categories_get_the_default_sla():
    assert sla_hours("never-heard-of-it", KPI) == KPI.sla_default_hours == 72


def test_the_queue_grid_sorts_oldest_first_by_default():
    opened = next(c for c in complaints.QUEUE_COLUMNS if c["field"] == "opened_at")
    assert opened["sort"] == "asc"


@pytest.mark.parametrize("rows", [[]])
def test_empty_data_draws_empty_figures(rows):
    assert complaints.volume_figure(rows, "hour").data == ()
    assert complaints.sla_figure(rows).data[0].x is None or len(complaints.sla_figure(rows).data[0].x) == 0
