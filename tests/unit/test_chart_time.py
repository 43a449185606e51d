"""Charts with little data: the axis spans the chosen range (never milliseconds around one bucket), points are
marked, and the title says how long the data has been collected."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from layouts import chart_time, datacenters, history

CITY = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 12, 3, tzinfo=UTC)
SINCE = NOW - timedelta(hours=24)
STARTED = NOW - timedelta(minutes=3)  # the first minute of data: a first run three minutes ago
BUCKET = datetime(2026, 11, 30, 20, 0, tzinfo=CITY)  # the one hour bucket, as the dashboard reads it


@pytest.mark.parametrize(("span", "said"), [
    (timedelta(seconds=20), "less than a minute"), (timedelta(minutes=1), "1 minute"),
    (timedelta(minutes=3, seconds=59), "3 minutes"), (timedelta(minutes=119), "119 minutes"),
    (timedelta(hours=5, minutes=30), "5 hours"), (timedelta(days=3, hours=2), "3 days"),
])  # fmt: skip
def test_durations_read_in_words(span, said):
    assert chart_time.duration_text(span) == said


def test_collecting_is_said_only_when_the_data_began_inside_the_range():
    assert chart_time.collecting_note(STARTED, SINCE, NOW) == "collecting: 3 minutes so far"
    assert chart_time.collecting_note(SINCE - timedelta(days=6), SINCE, NOW) is None
    assert chart_time.collecting_note(None, SINCE, NOW) is None


def _axis_range(fig) -> list[datetime]:
    return [datetime.fromisoformat(str(end)) for end in fig.layout.xaxis.range]


def test_a_history_chart_with_one_bucket_spans_the_day_in_the_city_zone_and_says_it_is_collecting():
    rows = history.labelled([{"bucket": BUCKET, "district": "futian", "readings": 40, "mean": 21.0, "low": 18.0,
                              "high": 25.0}])  # fmt: skip
    fig = history.series_figure(rows, "pm25", SINCE, NOW, STARTED)
    low, high = _axis_range(fig)
    # the whole 24 h, in the buckets' own (city) time: not milliseconds around 20:00
    assert (low, high) == (SINCE.astimezone(CITY).replace(tzinfo=None), NOW.astimezone(CITY).replace(tzinfo=None))
    assert high - low == timedelta(hours=24)
    assert fig.layout.xaxis.type == "date"
    assert fig.data[0].mode == "lines+markers"
    assert fig.layout.title.text == "PM2.5: mean per bucket · collecting: 3 minutes so far"


def test_a_full_history_chart_has_plain_lines_and_no_note():
    rows = history.labelled([
        {"bucket": SINCE + timedelta(minutes=10 * i), "district": "futian", "readings": 40, "mean": 21.0,
         "low": 18.0, "high": 25.0}
        for i in range(144)
    ])  # fmt: skip
    fig = history.series_figure(rows, "pm25", SINCE, NOW, SINCE - timedelta(days=6))
    assert fig.data[0].mode == "lines"
    assert fig.layout.title.text == "PM2.5: mean per bucket"


def test_data_centre_charts_with_one_bucket_span_the_range_and_say_they_are_collecting():
    rows = [{"bucket": BUCKET, "site": "dc-a", "pue": 1.25, "facility_kw": 1000.0, "it_kw": 800.0,
             "inlet_temp_c": 23.0, "inlet_temp_max": 25.0}]  # fmt: skip
    span = datacenters.Span(SINCE, NOW, STARTED)
    for fig in (datacenters.pue_figure(rows, 1.3, span=span), datacenters.power_figure(rows, span),
                datacenters.inlet_figure(rows, span)):  # fmt: skip
        low, high = _axis_range(fig)
        assert high - low == timedelta(hours=24)
        assert all(trace.mode == "lines+markers" for trace in fig.data)
        assert fig.layout.title.text.endswith("· collecting: 3 minutes so far")


def test_data_centre_charts_without_data_say_so():
    fig = datacenters.pue_figure([], 1.3, span=datacenters.Span(SINCE, NOW, None))
    assert fig.layout.title.text.endswith("no data in this range")
    assert "collecting" not in fig.layout.title.text
