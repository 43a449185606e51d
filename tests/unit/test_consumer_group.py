"""The consumer-group reader's decisions and reply parsing, shared by ingest and alerting (no Redis needed)."""

import redis

from streams.consumer_group import claim_done, group_exists, idle_consumers, short_read
from streams.group_read import claimed, entries_by_kind

KIND_OF = {b"city:iot": "iot", b"city:complaints": "complaints"}
READING = [b"device_id", b"aq-1", b"value", b"12"]


def test_a_resp2_read_reply_is_keyed_by_kind_and_empty_streams_are_left_out():
    reply = [[b"city:iot", [[b"1-0", READING], [b"1-1", None]]], [b"city:complaints", []]]
    assert entries_by_kind(reply, KIND_OF) == {"iot": [[b"1-0", READING], [b"1-1", None]]}


def test_a_resp3_read_reply_and_text_stream_names_read_the_same():
    reply = {"city:complaints": [[b"2-0", [b"request_id", b"SZ-1"]]], "city:iot": [[b"1-0", READING]]}
    assert entries_by_kind(reply, KIND_OF) == {"complaints": [[b"2-0", [b"request_id", b"SZ-1"]]],
                                               "iot": [[b"1-0", READING]]}  # fmt: skip


def test_a_read_that_timed_out_has_no_entries():
    assert entries_by_kind(None, KIND_OF) == {}
    assert entries_by_kind({}, KIND_OF) == {}


def test_an_autoclaim_reply_gives_cursor_entries_and_ids_trimmed_away():
    assert claimed([b"5-0", [[b"3-0", READING]], [b"4-0"]]) == (b"5-0", [[b"3-0", READING]], [b"4-0"])


def test_an_autoclaim_reply_of_redis_6_has_no_trimmed_ids():
    assert claimed([b"0-0", []]) == (b"0-0", [], [])


def test_a_claim_scan_is_done_when_the_cursor_comes_back_to_the_start():
    assert claim_done(b"0-0") and claim_done("0-0")
    assert not claim_done(b"17-3")


def test_only_an_existing_group_is_an_error_to_ignore_at_set_up():
    assert group_exists(redis.ResponseError("BUSYGROUP Consumer Group name already exists"))
    assert not group_exists(redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"))


def test_a_read_is_short_unless_some_stream_filled_the_batch():
    assert short_read({"iot": [1] * 9, "complaints": [1] * 3}, 10)
    assert not short_read({"iot": [1] * 10, "complaints": [1]}, 10)
    assert not short_read({"complaints": [1] * 10}, 10)


def test_only_empty_long_idle_consumers_other_than_oneself_are_forgotten():
    infos = [
        {"name": b"gone", "pending": 0, "idle": 7_200_000},
        {"name": b"holding", "pending": 3, "idle": 7_200_000},  # its entries are to be claimed, not forgotten
        {"name": b"recent", "pending": 0, "idle": 1_000},
        {"name": b"me", "pending": 0, "idle": 7_200_000},
    ]
    assert idle_consumers(infos, 3_600_000, "me") == [b"gone"]
