"""The event contract (docs/EVENTS.md): good entries parse, every kind of bad entry is refused with a reason."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from streams.complaints import parse_complaint
from streams.datacenter import parse_power_sample
from streams.fields import InvalidEvent
from streams.iot import parse_reading
from streams.parse_cache import ParseCache

ENTRY = b"1764000000000-0"  # 2025-11-24T16:00:00Z
FUTIAN = (b"22.5431", b"114.0596")


def reading(**changes: bytes | None) -> dict[bytes, bytes]:
    fields = {
        b"device_id": b"aq-0001",
        b"kind": b"air_quality",
        b"metric": b"pm25",
        b"value": b"35.5",
        b"unit": b"ug/m3",
        b"lat": FUTIAN[0],
        b"lon": FUTIAN[1],
        b"ts": b"2025-11-24T23:59:00+08:00",
    }
    return _apply(fields, changes)


def complaint(**changes: bytes | None) -> dict[bytes, bytes]:
    fields = {
        b"request_id": b"SZ-1",
        b"status": b"closed",
        b"category": b"noise",
        b"district": b"Futian",
        b"lat": FUTIAN[0],
        b"lon": FUTIAN[1],
        b"channel": b"app",
        b"satisfaction": b"5",
        b"ts": b"1764000000000",
    }
    return _apply(fields, changes)


def sample(**changes: bytes | None) -> dict[bytes, bytes]:
    fields = {
        b"site": b"dc-qianhai",
        b"facility_kw": b"1300",
        b"it_kw": b"1000",
        b"inlet_temp_c": b"24.5",
        b"ts": b"1764000000000",
    }
    return _apply(fields, changes)


def _apply(fields: dict[bytes, bytes], changes: dict[str, bytes | None]) -> dict[bytes, bytes]:
    for key, value in changes.items():
        if value is None:
            fields.pop(key.encode(), None)
        else:
            fields[key.encode()] = value
    return fields


def test_a_good_reading_parses_with_utc_time_and_derived_district(ctx):
    r = parse_reading(reading(), ENTRY, ctx)
    assert r.ts == datetime(2025, 11, 24, 15, 59, tzinfo=UTC)
    assert (r.device_id, r.kind, r.metric, r.value, r.unit) == ("aq-0001", "air_quality", "pm25", 35.5, "ug/m3")
    assert r.district == "futian"
    assert r.attrs is None and r.source_id == ENTRY.decode()


def test_a_named_district_is_normalised_and_extra_fields_are_kept(ctx):
    r = parse_reading(reading(district="福田区".encode(), firmware=b"2.1", battery=b"87"), ENTRY, ctx)
    assert r.district == "futian"
    assert r.attrs == {"firmware": "2.1", "battery": "87"}


def test_without_ts_the_entry_id_time_is_used(ctx):
    r = parse_reading(reading(ts=None), ENTRY, ctx)
    assert r.ts == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)


def test_epoch_milliseconds_are_accepted(ctx):
    assert parse_reading(reading(ts=b"1763999990000"), ENTRY, ctx).ts == datetime(2025, 11, 24, 15, 59, 50, tzinfo=UTC)


@pytest.mark.parametrize(("changes", "code"), [
    ({"value": None}, "missing"),
    ({"device_id": b"  "}, "missing"),
    ({"value": b"high"}, "not_a_number"),
    ({"value": b"NaN"}, "not_finite"),
    ({"value": b"inf"}, "not_finite"),
    ({"value": b"1e999"}, "not_finite"),
    ({"lat": b"39.9", "lon": b"116.4"}, "outside_city"),       # Beijing
    ({"lat": b"22.32", "lon": b"114.17"}, "outside_city"),     # Hong Kong: inside the box, in no district
    ({"district": b"Atlantis"}, "unknown_district"),
    ({"kind": b"Air Quality"}, "bad_value"),
    ({"unit": None}, "missing"),
    ({"device_id": b"x" * 5000}, "too_large"),
    ({"device_id": b"\xff\xfe"}, "encoding"),
    ({"device_id": b"a\x00b"}, "encoding"),
    ({"ts": b"yesterday"}, "bad_ts"),
    ({"ts": b"2025-11-24T10:00:00"}, "bad_ts"),                # no offset
    ({"ts": b"1764000000"}, "bad_ts"),                         # seconds, not milliseconds
    ({"ts": b"1864000000000"}, "future_ts"),
])  # fmt: skip
def test_bad_readings_are_refused_with_a_code(ctx, changes, code):
    with pytest.raises(InvalidEvent) as refused:
        parse_reading(reading(**changes), ENTRY, ctx)
    assert refused.value.code == code
    assert refused.value.message


def test_a_good_complaint_event_parses(ctx):
    c = parse_complaint(complaint(description="施工噪音 after 22:00".encode()), ENTRY, ctx)
    assert (c.request_id, c.status, c.category, c.district, c.channel) == ("SZ-1", "closed", "noise", "futian", "app")
    assert c.satisfaction == 5 and c.description == "施工噪音 after 22:00"


@pytest.mark.parametrize(("changes", "code"), [
    ({"status": b"reopened"}, "bad_value"),
    ({"channel": b"fax"}, "bad_value"),
    ({"district": None}, "missing"),
    ({"satisfaction": b"6"}, "out_of_range"),
    ({"satisfaction": b"4.5"}, "out_of_range"),
    ({"status": b"open", "satisfaction": b"5"}, "bad_value"),
    ({"request_id": None}, "missing"),
])  # fmt: skip
def test_bad_complaint_events_are_refused(ctx, changes, code):
    with pytest.raises(InvalidEvent) as refused:
        parse_complaint(complaint(**changes), ENTRY, ctx)
    assert refused.value.code == code


def test_a_good_power_sample_parses(ctx):
    s = parse_power_sample(sample(humidity_pct=b"45"), ENTRY, ctx)
    assert (s.site, s.facility_kw, s.it_kw, s.inlet_temp_c, s.humidity_pct) == (
        "dc-qianhai",
        1300.0,
        1000.0,
        24.5,
        45.0,
    )


@pytest.mark.parametrize(("changes", "code"), [
    ({"it_kw": b"0"}, "out_of_range"),
    ({"it_kw": b"-5"}, "out_of_range"),
    ({"facility_kw": b"900"}, "out_of_range"),   # PUE below 1 is not physics
    ({"humidity_pct": b"140"}, "out_of_range"),
    ({"facility_kw": None}, "missing"),
])  # fmt: skip
def test_bad_power_samples_are_refused(ctx, changes, code):
    with pytest.raises(InvalidEvent) as refused:
        parse_power_sample(sample(**changes), ENTRY, ctx)
    assert refused.value.code == code


# --- fuzzing: whatever arrives, a parser returns a record or raises InvalidEvent, nothing else ------------------

KEYS = [
    b"device_id",
    b"kind",
    b"metric",
    b"value",
    b"unit",
    b"lat",
    b"lon",
    b"district",
    b"ts",
    b"request_id",
    b"status",
    b"category",
    b"channel",
    b"description",
    b"satisfaction",
    b"site",
    b"facility_kw",
    b"it_kw",
    b"inlet_temp_c",
    b"humidity_pct",
]
PLAUSIBLE = [
    b"22.54",
    b"114.06",
    b"35",
    b"-1",
    b"0",
    b"1e308",
    b"nan",
    b"-inf",
    b"closed",
    b"open",
    b"in_progress",
    b"app",
    b"futian",
    b"\xe7\xa6\x8f\xe7\x94\xb0\xe5\x8c\xba",
    b"pm25",
    b"1764000000000",
    b"99999999999999999999",
    b"2025-11-24T23:59:00+08:00",
    b"9999-12-31T23:59:59-23:59",
    b"0001-01-01T00:00:00+14:00",
    b"5",
    b" ",
]
values = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.binary(max_size=64),
    st.text(max_size=32).map(str.encode),
    st.binary(min_size=4090, max_size=4200),
)
entries = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.binary(max_size=16)), values, max_size=14)
entry_ids = st.builds(lambda ms, seq: f"{ms}-{seq}".encode(), st.integers(0, 2**48), st.integers(0, 2**20))


@pytest.mark.parametrize("parse", [parse_reading, parse_complaint, parse_power_sample])
@hsettings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(fields=entries, entry_id=entry_ids)
def test_parsers_raise_nothing_but_invalid_event(ctx, parse, fields, entry_id):
    try:
        record = parse(fields, entry_id, ctx)
    except InvalidEvent as refused:
        assert refused.code and refused.message
        return
    assert record.source_id == entry_id.decode()
    assert record.ts.tzinfo is not None


# --- the fast path for readings as Redis sends them (a flat name/value list) agrees with the reference parser ---

READING_VALUES = {
    b"device_id": [b"aq-0001", b" aq-0002 ", b"", b"\xff"],
    b"kind": [b"air_quality", b"Air Quality", b""],
    b"metric": [b"pm25", b"level_m"],
    b"value": [b"35.5", b"-1", b"nan", b"x", b""],
    b"unit": [b"ug/m3", b"", b"u" * 40],
    b"lat": [FUTIAN[0], b"23.9", b"x"],
    b"lon": [FUTIAN[1], b"114.1315"],
    b"district": [b"Futian", b"futian", b"nowhere", b""],
    b"ts": [b"1764000000000", b"2025-11-24T23:59:00+08:00", b"2025-11-24T23:59:00", b"1"],
}


@st.composite
def flat_readings(draw) -> list[bytes]:
    """Mostly good readings in any field order; sometimes a field missing, a value off, an extra or repeated name."""
    names = draw(st.permutations(list(READING_VALUES)))
    if not draw(st.integers(0, 4)):
        names = names[:-1]
    fields: list[bytes] = []
    for name in names:
        options = READING_VALUES[name]
        fields += [name, options[0] if draw(st.integers(0, 5)) else draw(st.sampled_from(options))]
    for name, value in draw(st.lists(st.tuples(st.sampled_from([b"colour", b"value", b"ts"]), values), max_size=2)):
        fields += [name, value]
    return fields


@hsettings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=flat_readings())
def test_the_fast_reading_path_accepts_and_refuses_exactly_as_the_reference(ctx, fields):
    def outcome(parse_input):
        try:
            return parse_reading(parse_input, ENTRY, ctx)
        except InvalidEvent as refused:
            return refused.code

    pairs = iter(fields)
    assert outcome(list(fields)) == outcome(dict(zip(pairs, pairs, strict=False)))


def test_the_fast_path_remembers_a_device_and_still_checks_each_value(ctx):
    fields = [part for pair in reading().items() for part in pair]
    first = parse_reading(list(fields), ENTRY, ctx)
    assert parse_reading(list(fields), ENTRY, ctx) == first
    fields[fields.index(b"value") + 1] = b"inf"
    with pytest.raises(InvalidEvent) as refused:
        parse_reading(fields, ENTRY, ctx)
    assert refused.value.code == "not_finite"


def test_field_layouts_are_remembered_within_a_bound(ctx):
    small = dataclasses.replace(ctx, cache=ParseCache(max_entries=10))
    base = [part for pair in reading().items() for part in pair]
    for n in range(50):
        parse_reading([*base, f"extra_{n}".encode(), b"1"], ENTRY, small)
    assert 0 < len(small.cache) <= 10 and small.cache.clears >= 4
