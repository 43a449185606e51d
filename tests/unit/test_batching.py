"""A read's entries split into a storage batch and dead letters; nothing is dropped silently."""

from streams.batching import parse_entries
from streams.deadletter import VALUE_KEEP_BYTES, dead_letter
from streams.status import assemble_status

GOOD = {
    b"device_id": b"n-1",
    b"kind": b"noise",
    b"metric": b"laeq_db",
    b"value": b"61",
    b"unit": b"dB(A)",
    b"lat": b"22.5431",
    b"lon": b"114.0596",
}


def test_good_bad_and_trimmed_entries_are_all_accounted_for(ctx):
    entries = {
        "iot": [(b"1764000000000-0", GOOD), (b"1764000000000-1", GOOD | {b"value": b"loud"}), (b"1764000000000-2", {})]
    }
    read = parse_entries(entries, ctx, redelivered=True)
    assert [r.device_id for r in read.batch.readings] == ["n-1"]
    assert read.batch.redelivered
    [bad] = read.rejected
    assert (bad.kind, bad.entry_id, bad.code) == ("iot", b"1764000000000-1", "not_a_number")
    assert read.ids == {"iot": [b"1764000000000-0", b"1764000000000-1", b"1764000000000-2"]}


def test_a_parser_bug_is_dead_lettered_not_raised(ctx, monkeypatch):
    import streams.batching as batching

    def broken(fields, entry_id, ctx):
        raise KeyError("bug")

    monkeypatch.setitem(batching.PARSERS, "iot", broken)
    read = parse_entries({"iot": [(b"1-0", GOOD)]}, ctx, redelivered=False)
    assert read.rejected[0].code == "internal" and "bug" in read.rejected[0].reason


def test_a_dead_letter_keeps_the_fields_and_says_why_and_where_from():
    letter = dead_letter(
        {b"value": b"x" * (VALUE_KEEP_BYTES + 10), b"kind": b"noise"},
        stream="city:iot",
        entry_id=b"5-1",
        code="too_large",
        reason="too big",
        at_ms=99,
    )
    assert letter[b"kind"] == b"noise" and len(letter[b"value"]) == VALUE_KEEP_BYTES
    marks = (letter[b"dlq_truncated"], letter[b"dlq_dropped_fields"], letter[b"dlq_dropped_bytes"])
    assert marks == (b"1", b"0", b"10")
    assert (letter[b"dlq_code"], letter[b"dlq_reason"], letter[b"dlq_stream"], letter[b"dlq_id"]) == (
        b"too_large",
        b"too big",
        b"city:iot",
        b"5-1",
    )


def test_pipeline_status_rows_per_stream():
    status = assemble_status(
        ["city:iot"],
        {"city:iot": {"length": 10, "lag": 2, "pending": 3}},
        {b"city:iot:parsed": b"7", b"city:iot:rejected": b"1", b"last_commit_ms": b"1000"},
        4000,
    )
    assert status["streams"] == [
        {"stream": "city:iot", "length": 10, "lag": 2, "pending": 3, "parsed": 7, "rejected": 1, "too_many_new": 0}
    ]
    assert status["last_commit_age_s"] == 3.0
