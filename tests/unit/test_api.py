"""The open-data API's pure parts: parameters, cursors, ETags, shapes, and the document built from the endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api import shapes
from api.access import presented_key
from api.endpoints import endpoints
from api.keys import KEY_PREFIX, clean_scopes, key_digest
from api.openapi import document
from api.paging import decode_cursor, encode_cursor, etag, not_modified, page
from api.params import BadParameter, Param, parse_query, parse_time
from api.resources import Context, sensors
from api.scopes import SCOPES
from auth.command import Refused

T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)


@given(st.dictionaries(st.sampled_from(["since", "until", "limit", "cursor", "by", "metric", "bucket", "x"]),
                       st.lists(st.text(max_size=80), min_size=1, max_size=2)))  # fmt: skip
def test_any_query_string_parses_or_is_refused_with_the_parameter_named(args):
    history = next(e for e in endpoints(100) if e.name == "history")
    try:
        parse_query(args, history.params)
    except BadParameter as bad:
        assert bad.status in (400, 422) and bad.parameter and str(bad)


def test_times_need_their_offset_and_stay_within_the_years_held():
    assert parse_time("since", "2026-05-01T16:00:00+08:00") == T0
    assert parse_time("since", "2026-05-01T08:00:00z") == T0
    for bad in ("2026-05-01T08:00:00", "yesterday", "", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(BadParameter):
            parse_time("since", bad)
    with pytest.raises(BadParameter) as far:
        parse_time("until", "2300-01-01T00:00:00Z")
    assert far.value.status == 422


def test_parameters_are_bounded_and_declared():
    limit = Param("limit", "integer", "", minimum=1, maximum=50, default=10)
    assert parse_query({}, [limit]) == {"limit": 10}
    assert parse_query({"limit": ["50"]}, [limit]) == {"limit": 50}
    for raw in (["0"], ["51"], ["1e3"], ["9" * 40], ["5", "6"]):
        with pytest.raises(BadParameter):
            parse_query({"limit": raw}, [limit])
    with pytest.raises(BadParameter, match="Unknown parameter `lmit`"):
        parse_query({"lmit": ["5"]}, [limit])
    by = Param("by", "choices", "", choices=("district", "category", "hour"))
    assert by.parse("hour,district") == ("hour", "district")
    for raw in ("district,district", "street", "district,"):
        with pytest.raises(BadParameter):
            by.parse(raw)


def test_a_cursor_belongs_to_its_query_and_pages_cover_the_list_once():
    query = {"metric": "pm25", "limit": 3, "cursor": None}
    items, seen = list(range(8)), []
    while True:
        rows, cursor = page(items, query)
        seen += rows
        if cursor is None:
            break
        query = query | {"cursor": cursor}
    assert seen == items
    other = {"metric": "pm10", "limit": 3, "cursor": encode_cursor({"metric": "pm25"}, 3)}
    for bad in (other, {"metric": "pm25", "cursor": "not-base64!"}, {"metric": "pm25", "cursor": "e30"}):
        with pytest.raises(BadParameter):
            decode_cursor(bad)
    assert decode_cursor({"metric": "pm25", "limit": 9, "cursor": encode_cursor({"metric": "pm25"}, "aq-7")},
                         str) == "aq-7"  # fmt: skip


def test_etags_compare_weakly_and_accept_a_list_or_star():
    tag = etag(b"{}")
    assert not_modified(tag, tag) and not_modified(f'"x", W/{tag}', tag) and not_modified("*", tag)
    assert not not_modified(None, tag) and not not_modified('"x"', tag)


def test_pue_is_energy_weighted_not_a_mean_of_ratios():
    # An hour at PUE 2.0 on 100 kW IT and an hour at 1.0 on 900 kW: 1100 / 1000 = 1.1, the mean of ratios 1.5.
    rows = [
        {"bucket": T0, "site": "dc-a", "samples": 60, "facility_kw": 200.0, "it_kw": 100.0},
        {"bucket": T0 + timedelta(hours=1), "site": "dc-a", "samples": 60, "facility_kw": 900.0, "it_kw": 900.0},
    ]
    sites, city = shapes.datacenters(rows)
    assert sites[0]["pue"] == pytest.approx(1.1) and city == {"pue": pytest.approx(1.1), "samples": 120}
    assert shapes.datacenters([])[1] == {"pue": None, "samples": 0}


def test_alerts_keep_only_public_fields_and_coarse_positions():
    doc = {"alerts": {"available": True, "items": [
        {"id": 7, "severity": "warning", "rule": "pm25_high", "subject": "aq-1", "summary": "PM2.5 high",
         "title": "PM2.5 high", "status": "acknowledged", "at_ms": 1_777_622_400_000, "value": 400.0,
         "assignee": "chen.jing", "note": "called back", "lat": 22.543123, "lon": 114.059687}]}}  # fmt: skip
    available, items = shapes.alerts(doc, 3, None)
    assert available and items == [{"id": 7, "severity": "warning", "rule": "pm25_high", "subject": "aq-1",
                                    "summary": "PM2.5 high", "status": "acknowledged", "value": 400.0,
                                    "fired_at": "2026-05-01T08:00:00Z", "lat": 22.543, "lon": 114.06,
                                    "predicted": False, "forecast_at": None, "expected_at": None,
                                    "expected_earliest": None, "expected_latest": None}]  # fmt: skip
    assert shapes.alerts(doc, 3, "critical")[1] == []


def test_a_predicted_alert_says_when_its_level_is_expected():
    at = 1_777_622_400_000
    doc = {"alerts": {"available": True, "items": [
        {"id": 8, "severity": "warning", "rule": "water_level_forecast", "subject": "wl-1", "summary": "soon",
         "status": "firing", "at_ms": at, "value": 2.1, "lat": None, "lon": None, "predicted": True,
         "forecast_ms": at, "expected_ms": at + 1_500_000, "earliest_ms": at + 1_080_000, "latest_ms": None,
         "lead_min": 25, "counted_from_ms": at}]}}  # fmt: skip
    (item,) = shapes.alerts(doc, 3, None)[1]
    forecast = ("predicted", "forecast_at", "expected_at", "expected_earliest", "expected_latest")
    assert {k: item[k] for k in forecast} == {
        "predicted": True, "forecast_at": "2026-05-01T08:00:00Z", "expected_at": "2026-05-01T08:25:00Z",
        "expected_earliest": "2026-05-01T08:18:00Z", "expected_latest": None}  # fmt: skip
    assert "lead_min" not in item and "counted_from_ms" not in item  # the snapshot's own, not the API's


def test_keys_are_taken_from_headers_only_and_must_look_like_ours():
    assert presented_key({"Authorization": "Bearer ioca_abc"}) == "ioca_abc"
    assert presented_key({"Authorization": "Basic eDp5", "X-API-Key": "ioca_def"}) == "ioca_def"
    assert presented_key({}) is None
    assert key_digest("iocd_display-token") is None and key_digest(KEY_PREFIX + "x" * 200) is None
    assert len(key_digest(KEY_PREFIX + "x" * 43)) == 32


def test_scopes_are_the_resources():
    assert clean_scopes([" alerts", "kpis", "kpis"]) == ["kpis", "alerts"]
    for bad in ([], ["everything"], [""]):
        with pytest.raises(Refused):
            clean_scopes(bad)


def test_the_document_describes_every_endpoint_parameter_and_error():
    doc = document(page_max=100, requests_per_minute=60)
    assert doc["openapi"].startswith("3.1")
    for endpoint in endpoints(100):
        operation = doc["paths"][f"/api/v1{endpoint.path}"]["get"]
        assert {p["name"] for p in operation["parameters"]} == {p.name for p in endpoint.params} | {"If-None-Match"}
        assert {"200", "304", "400", "401", "403", "429", "503"} <= set(operation["responses"])
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1] in doc["components"]["schemas"]
        assert endpoint.scope in SCOPES


class FakeQueries:
    """``sensor_latest`` over rows in memory, as the SQL does it: by device id, after ``after``, ``limit`` rows."""

    def __init__(self, rows: list[dict]) -> None:
        self.rows = sorted(rows, key=lambda r: (r["device_id"], r["metric"]))

    def sensor_latest(self, kinds, districts, limit, after=None) -> list[dict]:
        return [r for r in self.rows if after is None or r["device_id"] > after][:limit]


def test_sensor_pages_never_split_a_device_across_pages():
    # Device d-1 has 40 metrics: more than one read for a page of 2 devices holds (2 × 16 + 1 rows).
    rows = [{"device_id": f"d-{d}", "metric": f"m{m:02}", "kind": "air", "unit": "u", "value": 1.0, "ts": T0,
             "lat": 22.5431, "lon": 114.0597, "district": "futian"} for d, metrics in ((0, 2), (1, 40), (2, 3), (3, 1))
            for m in range(metrics)]  # fmt: skip
    ctx = Context(SimpleNamespace(queries=FakeQueries(rows), snapshot=lambda: None), None, dict, 2, 31)
    query, pages = {"limit": 2, "cursor": None, "kind": None, "district": None}, []
    while True:
        doc = sensors(ctx, query).doc
        pages.append([(d["id"], len(d["readings"])) for d in doc["data"]])
        if doc["next_cursor"] is None:
            break
        query = query | {"cursor": doc["next_cursor"]}
    # d-1 does not fit beside d-0, so it starts the next page; alone, it shows the metrics one read holds.
    assert pages == [[("d-0", 2)], [("d-1", 33)], [("d-2", 3), ("d-3", 1)]]
    assert doc["data"][0]["lat"] == 22.54
