"""Dead letters read back and replayed, without services: what a letter may hold, what a replay puts back, how the
parsers take a replayed entry, and how a letter is shown (as bounded text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.complaints import parse_complaint
from streams.datacenter import parse_power_sample
from streams.deadletter import LETTER_MAX_BYTES, BadLetter, dead_letter, read_letter, replay_fields, shown
from streams.fields import InvalidEvent
from streams.iot import parse_reading
from streams.replay import parse_since, refused_by_code

FIRST = b"1764000000000-0"  # 2025-11-24T16:00:00Z
LATER = b"1764000900000-3"  # a quarter of an hour later
READING = {b"device_id": b"aq-1", b"kind": b"air_quality", b"metric": b"pm25", b"value": b"35.5",
           b"unit": b"ug/m3", b"lat": b"22.5431", b"lon": b"114.0596"}  # fmt: skip


def letter_of(fields: dict[bytes, bytes], **about: str) -> dict[bytes, bytes]:
    raw = dead_letter(fields, stream="city:iot", entry_id=FIRST, code="too_many_new", reason="past the cap", at_ms=1)
    return raw | {f"dlq_{k}".encode(): v.encode() for k, v in about.items()}


def test_a_letter_reads_back_to_the_entry_and_a_replay_carries_the_first_id_and_one_more_replay():
    letter = read_letter(b"5-0", letter_of(READING))
    assert (letter.code, letter.stream, letter.entry_id, letter.original_id, letter.replays) == (
        "too_many_new", "city:iot", FIRST.decode(), FIRST.decode(), 0)  # fmt: skip
    assert letter.fields == READING and not letter.truncated
    again = replay_fields(letter)
    assert again == READING | {b"dlq_replay_of": FIRST, b"dlq_replays": b"1"}
    # Refused again after the replay: the new letter names the replay's entry, but keeps the first id and the count.
    second = read_letter(b"9-0", dead_letter(again, stream="city:iot", entry_id=LATER, code="not_finite",
                                             reason="x", at_ms=2))  # fmt: skip
    assert (second.entry_id, second.original_id, second.replays, second.fields) == (
        LATER.decode(), FIRST.decode(), 1, READING)  # fmt: skip
    assert replay_fields(second)[b"dlq_replays"] == b"2"


@pytest.mark.parametrize(("raw", "said"), [
    ({b"device_id": b"x"}, "no dlq_code, dlq_stream, dlq_id"),
    (letter_of(READING, id="0; DROP"), "dlq_id"),
    (letter_of(READING, id="1-0", replay_of="later please"), "dlq_replay_of"),
    (letter_of(READING, replays="-1"), "dlq_replays"),
    (letter_of(READING, replays="9" * 30), "dlq_replays"),
    (letter_of(READING, code="\x1b[2J"), "dlq_code"),
    (letter_of(READING, stream="s" * 300), "dlq_stream"),
    (letter_of(READING, stream="\x07bell"), "dlq_stream"),
    (letter_of(READING) | {b"huge": b"x" * LETTER_MAX_BYTES}, "bytes"),
])  # fmt: skip
def test_a_letter_the_ioc_would_not_have_written_is_refused_with_the_reason(raw, said):
    with pytest.raises(BadLetter, match=said):
        read_letter(b"5-0", raw)


def test_a_producers_own_dlq_fields_never_reach_the_letter_so_it_cannot_forge_a_mark_or_a_reason():
    forged = READING | {b"dlq_code": b"internal", b"dlq_truncated": b"0", b"dlq_stream": b"elsewhere"}
    letter = read_letter(b"5-0", letter_of(forged))
    assert (letter.code, letter.stream) == ("too_many_new", "city:iot")
    assert letter.truncated  # fields were left out: the letter says so, and such a letter is not replayed
    assert letter.fields == READING


@pytest.mark.parametrize("parse,fields", [
    (parse_reading, READING),
    (parse_complaint, {b"request_id": b"SZ-1", b"status": b"open", b"category": b"noise", b"district": b"futian",
                       b"lat": b"22.5431", b"lon": b"114.0596", b"channel": b"app"}),
    (parse_power_sample, {b"site": b"dc-1", b"facility_kw": b"1300", b"it_kw": b"1000"}),
])  # fmt: skip
def test_a_replayed_entry_is_stored_under_and_timed_by_its_first_id(ctx, parse, fields):
    record = parse(fields | {b"dlq_replay_of": FIRST, b"dlq_replays": b"1"}, LATER, ctx)
    assert record.source_id == FIRST.decode()
    assert record.ts == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)  # no ts: the first arrival, not the replay's
    assert record.attrs is None  # the replay's own fields are not the producer's attributes
    flat = [x for pair in (fields | {b"dlq_replay_of": FIRST}).items() for x in pair]
    assert parse(flat, LATER, ctx).source_id == FIRST.decode()  # the reading's fast path leaves it to the reference


@pytest.mark.parametrize("claimed", [LATER, b"1764000900000-4", b"9999999999999-0", b"x-1", b"", b"1-0-0"])
def test_an_entry_cannot_claim_the_id_of_an_entry_yet_to_come(ctx, claimed):
    with pytest.raises(InvalidEvent) as refused:
        parse_reading(READING | {b"dlq_replay_of": claimed}, LATER, ctx)
    assert refused.value.code == "bad_value" and "dlq_replay_of" in refused.value.message


def test_a_replayed_entry_is_judged_as_at_its_first_arrival(ctx):
    ahead = str(1764000000000 + 600_000).encode()  # 10 minutes ahead of the first arrival, not of the replay
    with pytest.raises(InvalidEvent) as refused:
        parse_reading(READING | {b"ts": ahead, b"dlq_replay_of": FIRST}, LATER, ctx)
    assert refused.value.code == "future_ts"


def test_text_is_shown_bounded_and_without_control_characters():
    assert shown(b"plain", 10) == "plain"
    assert shown(b"\x1b[31mred\xff\n", 50) == "\\x1b[31mred\\xff\\n"
    assert shown(b"x" * 100_000, 10) == "x" * 10 + "… (100,000 bytes in all)"
    assert shown("福田区".encode(), 2) == "福田… (9 bytes in all)"


def test_since_is_an_iso_time_with_an_offset_or_a_duration_back():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now) == int(datetime(2026, 11, 30, 10, 0, tzinfo=UTC).timestamp() * 1000)
    assert parse_since("2026-11-30T08:00:00+08:00", now) == int(
        datetime(2026, 11, 30, 0, 0, tzinfo=UTC).timestamp() * 1000
    )
    assert parse_since("", now) is None and parse_since(None, now) is None
    for bad, said in (("2026-11-30T08:00:00", "no UTC offset"), ("yesterday", "duration"), ("9" * 500, "duration")):
        with pytest.raises(ValueError, match=said):
            parse_since(bad, now)


def test_refused_counts_by_code_come_from_ingests_counters_of_the_city_streams_only():
    stats = {b"city:iot:rejected": b"7", b"city:iot:rejected:missing": b"5", b"city:iot:rejected:too_many_new": b"2",
             b"other:rejected:missing": b"9", b"inserted": b"100", b"city:iot:rejected:x": b"NaN"}  # fmt: skip
    assert refused_by_code(stats, {"city:iot"}) == [("city:iot", "missing", 5), ("city:iot", "too_many_new", 2)]
