"""Open311 paths and query arguments: what a client may ask, and a clear 400 or 404 for everything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open311.paths import Open311Error, Resource, Route, format_of, route
from open311.query import Limits, parse_requests_query, parse_w3

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
LIMITS = Limits(max_requests=1000, max_days=90, max_ids=100)
CODES = {"noise", "road_damage"}


def parse(**args: str | list[str]):
    given = {k: v if isinstance(v, list) else [v] for k, v in args.items()}
    return parse_requests_query(given, NOW, ZONE, LIMITS, CODES)


def refusal(call, *args) -> Open311Error:
    with pytest.raises(Open311Error) as raised:
        call(*args)
    return raised.value


@pytest.mark.parametrize(("path", "expected"), [
    ("v2/services.xml", Route(Resource.SERVICES, "xml")),
    ("v2/services.JSON", Route(Resource.SERVICES, "json")),
    ("v2/services/noise.json", Route(Resource.DEFINITION, "json", "noise")),
    ("v2/requests.json", Route(Resource.REQUESTS, "json")),
    ("v2/requests/SZ1764000000123.xml", Route(Resource.REQUEST, "xml", "SZ1764000000123")),
    ("v2/requests/SZ.1.json", Route(Resource.REQUEST, "json", "SZ.1")),
    ("discovery.json", Route(Resource.DISCOVERY, "json")),
])  # fmt: skip
def test_the_spec_resources_are_routed_with_their_format(path, expected):
    assert route(path) == expected


@pytest.mark.parametrize(("path", "says"), [
    ("v2/services.yaml", "Unknown format 'yaml'"),
    ("v2/services", "add .xml or .json"),
    ("v2/requests/SZ1", "add .xml or .json"),
    ("v2/requests/.json", "No such GeoReport v2 resource"),
    ("v2/tokens/123.xml", "No tokens"),
    ("v2/", "No such GeoReport v2 resource"),
    ("v3/services.xml", "No such Open311 resource"),
    ("", "No such Open311 resource"),
    ("discovery", "add .xml or .json"),
    ("v2/requests/" + "x" * 700 + ".json", "too long"),
])  # fmt: skip
def test_anything_else_is_a_404_saying_what_exists(path, says):
    error = refusal(route, path)
    assert error.status == 404 and says in error.description


def test_an_error_is_written_in_the_format_the_path_names_else_xml():
    assert [format_of(p) for p in ("v2/requests.json", "v2/x.JSON", "v2/requests.yaml", "v2/a.b/c")] == [
        "json", "json", "xml", "xml"]  # fmt: skip


def test_without_arguments_the_last_90_days_at_most_1000_newest_first():
    query = parse()
    assert (query.ids, query.codes, query.statuses) == (None, None, None)
    assert (query.start, query.end, query.limit) == (NOW - timedelta(days=90), NOW, 1000)


def test_filters_repeat_or_comma_delimit_and_empty_ones_are_no_filter():
    query = parse(
        service_code=["noise, road_damage", "noise"], status="closed,open", start_date="", jurisdiction_id="x"
    )
    assert query.codes == ("noise", "road_damage") and query.statuses == ("closed", "open")
    assert query.start == NOW - timedelta(days=90)


def test_dates_are_w3_with_an_offset_or_a_day_in_the_city():
    query = parse(start_date="2026-11-01T00:00:00Z", end_date="2026-11-30T12:00:00+08:00")
    assert (query.start, query.end) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, 4, tzinfo=UTC))
    assert parse(start_date="2026-11-01").start == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert parse(start_date="2026-11-01T00:00Z").end == datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=90)
    assert parse(end_date="2026-11-01T00:00:00.5Z").start == datetime(2026, 8, 3, 0, 0, 0, 500_000, tzinfo=UTC)


def test_ids_override_every_other_argument_and_are_deduplicated():
    query = parse(service_request_id="SZ1,SZ2,SZ1", status="bogus", start_date="never")
    assert query.ids == ("SZ1", "SZ2") and query.start is None


@pytest.mark.parametrize(("args", "says"), [
    ({"status": "opne"}, "Unknown status 'opne'"),
    ({"status": "open,in_progress"}, "Unknown status 'in_progress'"),
    ({"service_code": "potholes"}, "Unknown service_code 'potholes'"),
    ({"service_code": "<script>"}, "Unknown service_code"),
    ({"service_code": ",".join(["noise"] * 101)}, "At most 100 values of service_code"),
    ({"service_request_id": ",".join(str(i) for i in range(101))}, "At most 100 values of service_request_id"),
    ({"service_request_id": "x" * 257}, "at most 256 characters"),
    ({"service_request_id": "SZ1,SZ\x002"}, "without NUL"),
    ({"start_date": "yesterday"}, "not a W3 date-time"),
    ({"start_date": "2026-11-01T00:00:00"}, "has no time zone"),
    ({"start_date": "2026-02-30T00:00:00Z"}, "not a real date"),
    ({"start_date": "2026-11-01T25:00:00Z"}, "not a real date"),
    ({"start_date": ["2026-11-01", "2026-11-02"]}, "once, not 2 times"),
    ({"start_date": "2026-11-02", "end_date": "2026-11-01"}, "start_date is after end_date"),
    ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}, "at most 90 days"),
    ({"end_date": "0001-01-02T00:00:00Z"}, "too far"),
    ({"start_date": "9999-12-30T00:00:00Z"}, "too far"),
    ({"end_date": "9999-12-31T23:59:59-12:00"}, "too far"),
    ({"start_date": "0001-01-01T00:00:00+14:00", "end_date": "0001-01-02T00:00:00Z"}, "too far"),
])  # fmt: skip
def test_bad_arguments_are_a_400_naming_what_is_wrong(args, says):
    error = refusal(parse_requests_query, {k: v if isinstance(v, list) else [v] for k, v in args.items()}, NOW,
                    ZONE, LIMITS, CODES)  # fmt: skip
    assert error.status == 400 and says in error.description


@given(st.text(max_size=60))
def test_any_date_text_is_a_date_or_a_400(text):
    try:
        parsed = parse_w3(text, "start_date", ZONE)
    except Open311Error as error:
        assert error.status == 400
    else:
        assert parsed.tzinfo is not None


@given(st.text(max_size=120))
def test_any_path_is_a_route_or_a_404(path):
    try:
        found = route(path)
    except Open311Error as error:
        assert error.status == 404
    else:
        assert found.fmt in ("xml", "json")


ARGUMENT = st.sampled_from(["service_request_id", "service_code", "start_date", "end_date", "status", "other"])
DATEISH = st.one_of(st.text(max_size=40), st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()))


@given(st.dictionaries(ARGUMENT, st.lists(st.one_of(DATEISH, st.sampled_from(["open", "closed", "noise"])),
                                          max_size=3)))  # fmt: skip
def test_any_arguments_are_a_query_the_database_can_take_or_a_400(args):
    try:
        query = parse_requests_query(args, NOW, ZONE, LIMITS, CODES)
    except Open311Error as error:
        assert error.status == 400
        return
    if query.ids is None:
        assert query.start.tzinfo is UTC and query.end.tzinfo is UTC and query.start <= query.end
        assert query.end - query.start <= timedelta(days=LIMITS.max_days)
    else:
        assert 0 < len(query.ids) <= LIMITS.max_ids and all("\x00" not in i for i in query.ids)
