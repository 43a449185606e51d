"""Open311 documents: complaint rows mapped to the spec's requests, and the XML / JSON shapes the spec shows."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from open311 import catalogue, mapping, render

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENED = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
HOW = mapping.Publication(SHANGHAI, 3, "Shenzhen 12345 hotline", {"futian": "Futian"}, lambda c: 24.0)
# The spec's order of a request's fields (GET Service Requests, "Response").
SPEC_REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
]  # fmt: skip
SPEC_SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]


def row(status: str = "open", **changes: object) -> dict[str, object]:
    base = {"request_id": "SZ1764000000123", "status": status, "category": "road_damage", "district": "futian",
            "lat": 22.5431234, "lon": 114.0596789, "opened_at": OPENED, "updated_at": OPENED + timedelta(hours=2),
            "closed_at": OPENED + timedelta(hours=5) if status == "closed" else None,
            "description": "我的电话 13800138000, 住在 5 栋", "channel": "hotline", "satisfaction": 5}  # fmt: skip
    return base | changes


def test_a_request_is_mapped_with_its_status_times_in_the_city_zone_and_a_coarse_position():
    request = mapping.service_request(row("in_progress"), HOW)
    assert request == {
        "service_request_id": "SZ1764000000123",
        "status": "open",
        "status_notes": mapping.IN_PROGRESS_NOTE,
        "service_name": "Road damage",
        "service_code": "road_damage",
        "agency_responsible": "Shenzhen 12345 hotline",
        "requested_datetime": "2026-11-24T08:30:00+08:00",
        "updated_datetime": "2026-11-24T10:30:00+08:00",
        "expected_datetime": "2026-11-25T08:30:00+08:00",
        "address": "Futian",
        "lat": 22.543,
        "long": 114.06,
    }
    assert list(request) == [f for f in SPEC_REQUEST_FIELDS if f in request]


def test_a_closed_request_is_updated_when_it_closed_and_says_nothing_personal():
    request = mapping.service_request(row("closed", updated_at=OPENED + timedelta(hours=9)), HOW)
    assert request["status"] == "closed" and "status_notes" not in request
    assert request["updated_datetime"] == "2026-11-24T13:30:00+08:00"  # closed_at, not a later event's time
    text = render.to_xml("service_requests", [request]) + render.to_json([request])
    for private in ("13800138000", "5 栋", "satisfaction", "channel", "description"):
        assert private.encode() not in text


def test_optional_fields_without_a_value_are_left_out():
    how = mapping.Publication(SHANGHAI, 0, "", {}, lambda c: 72.0)
    request = mapping.service_request(row(district="xinan", category="brand_new"), how)
    assert "agency_responsible" not in request and "status_notes" not in request
    assert (request["address"], request["service_name"]) == ("xinan", "Brand new")  # the id, when no name is known
    assert (request["lat"], request["long"]) == (23.0, 114.0)


def test_services_list_the_catalogue_then_categories_seen_only_in_the_data():
    listed = catalogue.services(["noise", "zebra_crossing", "brand_new", "Not A Code", "noise"])
    codes = [s.code for s in listed]
    assert codes[: len(catalogue.KNOWN)] == [s.code for s in catalogue.KNOWN]
    assert codes[len(catalogue.KNOWN) :] == ["brand_new", "zebra_crossing"]
    assert len(set(codes)) == len(codes)
    entry = mapping.service_entry(listed[0])
    assert list(entry) == SPEC_SERVICE_FIELDS and entry["metadata"] is False and entry["type"] == "realtime"
    assert list(mapping.service_entry(listed[-1])) == ["service_code", "service_name", "metadata", "type"]


def test_xml_has_the_shape_of_the_spec_and_json_is_its_spark_mapping():
    requests = [mapping.service_request(row(), HOW), mapping.service_request(row("closed", request_id="SZ2"), HOW)]
    xml = render.to_xml("service_requests", requests)
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<service_requests>')
    root = ET.fromstring(xml)
    assert root.tag == "service_requests" and [child.tag for child in root] == ["request", "request"]
    as_json = json.loads(render.to_json(requests))
    for element, item in zip(root, as_json, strict=True):
        assert [c.tag for c in element] == list(item)
        assert [c.text for c in element] == [_xml_text(v) for v in item.values()]


def test_errors_discovery_and_definitions_have_the_spec_shapes():
    root, value = render.errors(400, "start_date is after end_date.")
    xml = ET.fromstring(render.to_xml(root, value))
    assert [(e.tag, [(c.tag, c.text) for c in e]) for e in xml] == [
        ("error", [("code", "400"), ("description", "start_date is after end_date.")])
    ]
    assert json.loads(render.to_json(value)) == [{"code": 400, "description": "start_date is after end_date."}]
    found = ET.fromstring(render.to_xml("discovery", mapping.discovery("https://city.example/open311/v2", "ops")))
    assert [c.tag for c in found] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = found.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    definition = ET.fromstring(render.to_xml("service_definition", mapping.service_definition("noise")))
    assert [(c.tag, c.text) for c in definition] == [("service_code", "noise"), ("attributes", None)]


@given(st.text(max_size=80))
def test_any_text_from_outside_is_escaped_and_both_formats_stay_well_formed(text):
    request = mapping.service_request(row(request_id=text, district=text), HOW)
    expected = render.clean(text).replace("\r\n", "\n").replace("\r", "\n")  # XML's own line-end rule
    parsed = ET.fromstring(render.to_xml("service_requests", [request])).find("request")
    assert (parsed.findtext("service_request_id") or "") == expected
    assert (parsed.findtext("address") or "") == expected
    assert json.loads(render.to_json([request]))[0]["service_request_id"] == render.clean(text)


def _xml_text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
