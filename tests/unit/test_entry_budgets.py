"""No entry is too big to refuse cheaply: per-entry budgets, a capped dead letter, bounded parser memory."""

from __future__ import annotations

import dataclasses
import tomllib

import pytest

from alerts.prefilter import reading_filter
from alerts.rules import parse_rules
from streams.batching import parse_entries
from streams.complaints import parse_complaint
from streams.datacenter import parse_power_sample
from streams.deadletter import LETTER_MAX_BYTES, NAME_KEEP_BYTES, dead_letter
from streams.fields import InvalidEvent
from streams.iot import parse_reading
from streams.parse_cache import ANSWER_OVERHEAD, ParseCache

ENTRY = b"1764000000000-0"
READING = [b"device_id", b"aq-1", b"kind", b"air_quality", b"metric", b"pm25", b"value", b"35.5", b"unit",
           b"ug/m3", b"lat", b"22.5431", b"lon", b"114.0596"]  # fmt: skip
COMPLAINT = [b"request_id", b"SZ-1", b"status", b"open", b"category", b"noise", b"district", b"futian", b"lat",
             b"22.5431", b"lon", b"114.0596", b"channel", b"app"]  # fmt: skip
SAMPLE = [b"site", b"dc-1", b"facility_kw", b"1200", b"it_kw", b"1000"]
PARSERS = [(parse_reading, READING), (parse_complaint, COMPLAINT), (parse_power_sample, SAMPLE)]


def extras(count: int, value_bytes: int = 1, name: str = "extra_{}") -> list[bytes]:
    return [part for n in range(count) for part in (name.format(n).encode(), b"v" * value_bytes)]


def refusal(parse, fields, ctx) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as refused:
        parse(fields, ENTRY, ctx)
    return refused.value


@pytest.mark.parametrize(("parse", "good"), PARSERS)
def test_an_entry_with_more_fields_than_its_budget_is_too_large_and_says_which_limit(ctx, parse, good):
    room = ctx.max_entry_fields - len(good) // 2
    parse(good + extras(room), ENTRY, ctx)  # exactly at the budget: accepted
    for shape in (list, lambda f: dict(zip(f[::2], f[1::2], strict=True))):
        refused = refusal(parse, shape(good + extras(room + 1)), ctx)
        assert refused.code == "too_large"
        assert f"{ctx.max_entry_fields + 1} fields" in refused.message and "IOC_ENTRY_MAX_FIELDS" in refused.message


@pytest.mark.parametrize(("parse", "good"), PARSERS)
def test_an_entry_over_its_byte_budget_is_too_large_though_every_field_is_within_its_limit(ctx, parse, good):
    # 200 extra fields of 4 KiB were once stored as 800 KiB of attrs; now five of them are too many.
    per_field = ctx.max_field_bytes - 16
    fields = good + extras(ctx.max_entry_bytes // per_field + 1, per_field)
    for shape in (list, lambda f: dict(zip(f[::2], f[1::2], strict=True))):
        refused = refusal(parse, shape(fields), ctx)
        assert refused.code == "too_large" and "IOC_ENTRY_MAX_BYTES" in refused.message
        assert f"{sum(map(len, fields)):,} bytes" in refused.message


def test_the_budget_counts_names_as_well_as_values(ctx):
    name = "n" * 1000 + "_{}"  # names alone over the budget, values empty
    fields = READING + extras(ctx.max_entry_bytes // 1000 + 1, 0, name)
    assert "IOC_ENTRY_MAX_BYTES" in refusal(parse_reading, fields, ctx).message


def test_the_budget_is_checked_before_anything_is_decoded_or_remembered(ctx):
    fresh = dataclasses.replace(ctx, cache=ParseCache())
    # Not UTF-8, not a number, a huge unknown name: the budget answers first, and nothing is remembered.
    hostile = [b"device_id", b"\xff", b"value", b"NaN", b"x" * 65_536, b"1", b"kind", b"Air Quality"]
    assert refusal(parse_reading, hostile, fresh).code == "too_large"
    many = [b"", b""] * 100_000  # empty names and values: nothing in bytes, far too many fields
    assert "100,000 fields" in refusal(parse_reading, many, fresh).message
    assert len(fresh.cache) == 0 and fresh.cache.bytes == 0


def test_settings_set_the_budgets(ctx):
    tight = dataclasses.replace(ctx, max_entry_fields=16, max_entry_bytes=1024, cache=ParseCache())
    assert refusal(parse_reading, READING + extras(10), tight).code == "too_large"
    assert refusal(parse_reading, READING + extras(1, 1000), tight).code == "too_large"
    assert parse_reading(READING + extras(9), ENTRY, tight).attrs == {f"extra_{n}": "v" for n in range(9)}


def test_rejected_entries_with_unique_64_kib_names_leave_the_parser_memory_empty(ctx):
    fresh = dataclasses.replace(ctx, cache=ParseCache())
    entries = [(f"1764000000000-{n}".encode(), READING + [f"{n:08d}".encode() * 8192, b"1"]) for n in range(2000)]
    read = parse_entries({"iot": entries}, fresh, redelivered=False)
    assert {bad.code for bad in read.rejected} == {"too_large"} and len(read.rejected) == 2000
    assert len(fresh.cache) == 0 and fresh.cache.bytes == 0


def test_the_parse_cache_is_bounded_in_entries_and_in_bytes_and_clears_when_full():
    by_count = ParseCache(max_entries=100, max_bytes=1 << 30)
    for n in range(1000):
        by_count.remember(n, n, 8)
    assert len(by_count) <= 100 and by_count.clears == 9
    by_bytes = ParseCache(max_entries=1_000_000, max_bytes=100 * (ANSWER_OVERHEAD + 4096))
    for n in range(1000):
        by_bytes.remember_layout((b"%d" % n,), False, 4096)
    assert len(by_bytes) <= 100 and by_bytes.bytes <= by_bytes.max_bytes and by_bytes.clears == 9


def test_a_city_of_devices_stays_within_the_cache_budget(ctx):
    small = dataclasses.replace(ctx, cache=ParseCache(max_entries=1_000_000, max_bytes=200 * 1024))
    for n in range(5000):
        fields = list(READING)
        fields[1] = b"aq-%d" % n
        parse_reading(fields, ENTRY, small)
    assert small.cache.bytes <= 200 * 1024 and small.cache.clears > 0
    assert 0 < len(small.cache.answers) < 5000


def test_a_dead_letter_is_capped_in_total_and_keeps_its_dlq_fields():
    # One entry of 13 MB once made a 13 MB dead letter: 200 fields of 64 KiB.
    fields = {f"extra_{n}".encode(): b"x" * 65_536 for n in range(200)} | {b"device_id": b"aq-1"}
    letter = dead_letter(fields, stream="city:iot", entry_id=b"5-1", code="too_large", reason="too big", at_ms=99)
    assert sum(len(k) + len(v) for k, v in letter.items()) <= LETTER_MAX_BYTES
    assert (letter[b"dlq_code"], letter[b"dlq_id"], letter[b"dlq_stream"]) == (b"too_large", b"5-1", b"city:iot")
    kept = [k for k in letter if k in fields]
    assert letter[b"dlq_truncated"] == b"1" and int(letter[b"dlq_dropped_fields"]) == len(fields) - len(kept)
    original = sum(len(k) + len(v) for k, v in fields.items())
    assert int(letter[b"dlq_dropped_bytes"]) == original - sum(len(k) + len(letter[k]) for k in kept)


def test_a_dead_letter_cuts_huge_names_and_never_lets_a_producer_forge_its_dlq_fields():
    fields = {b"n" * 65_536: b"1", b"dlq_code": b"forged", b"value": b"3"}
    letter = dead_letter(fields, stream="s", entry_id=b"1-1", code="too_large", reason="r", at_ms=1)
    assert letter[b"n" * NAME_KEEP_BYTES] == b"1" and letter[b"value"] == b"3" and letter[b"dlq_code"] == b"too_large"
    assert letter[b"dlq_dropped_fields"] == b"1"  # the forged dlq_code
    assert int(letter[b"dlq_dropped_bytes"]) == 65_536 - NAME_KEEP_BYTES + len(b"dlq_code") + len(b"forged")


def test_a_small_dead_letter_is_whole_and_not_marked():
    letter = dead_letter({b"value": b"NaN"}, stream="s", entry_id=b"1-1", code="not_finite", reason="r", at_ms=1)
    assert letter[b"value"] == b"NaN" and b"dlq_truncated" not in letter and b"dlq_dropped_bytes" not in letter


def test_the_evaluators_prefilter_remembers_only_plain_words_and_small_layouts():
    rules = parse_rules(tomllib.loads('[[rule]]\nid = "a"\nseverity = "warning"\nsummary = "s"\ntype = "threshold"\n'
                                      'metric = "pm25"\nthreshold = 1\n'))  # fmt: skip
    readings = reading_filter(rules)
    for n in range(2000):
        # Unique raw kinds of 64 KiB, and unique 64 KiB field names: nothing of either is remembered.
        assert not readings.unwanted([b"kind", b"k" * 65_536 + b"%d" % n, b"metric", b"pm10"])
        assert readings.unwanted([b"%d" % n * 8192, b"1", b"kind", b"noise", b"metric", b"laeq_db"])
    assert readings.cache.bytes < 64 * 1024 and len(readings.cache) <= 3
    for n in range(20_000):  # plain but endless new words: bounded by the cache's entry budget
        readings.unwanted([b"kind", b"k%d" % n, b"metric", b"m"])
    assert len(readings.cache) <= readings.cache.max_entries
