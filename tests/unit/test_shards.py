"""Which stream an event goes to when the city streams are sharded (streams/shards.py), and the order a reader
asks the shards in (streams/consumer_group.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from streams.consumer_group import shard_order
from streams.shards import Shards, shard_of

CITY = {"iot": "city:iot", "complaints": "city:complaints", "datacenter": "city:datacenter"}


def test_one_shard_keeps_the_single_node_names():
    shards = Shards(CITY)
    assert shards.each == [CITY]
    assert shards.stream_for("iot", {"device_id": "aq-1"}) == "city:iot"
    assert shards.names == ("city:iot", "city:complaints", "city:datacenter")


def test_each_shard_has_the_three_streams_under_one_hash_tag():
    shards = Shards(CITY, 4)
    assert shards.streams(3) == {"iot": "city:iot:{3}", "complaints": "city:complaints:{3}",
                                 "datacenter": "city:datacenter:{3}"}  # fmt: skip
    assert len(shards.names) == 12 and len(set(shards.names)) == 12


def test_the_shard_is_crc32_of_the_identity_as_documented_for_producers_in_any_language():
    # The figures in docs/EVENTS.md: a producer in another language must land on the same shard.
    assert [shard_of(identity, 4) for identity in ("aq-0042", "wl-0007", "SZ-2026-000123", "dc-shenzhen-1")] == [
        0, 2, 1, 3]  # fmt: skip
    assert shard_of("aq-0042", 16) == 8 and shard_of(b"aq-0042", 16) == 8


def test_an_events_identity_chooses_its_shard_so_one_device_stays_on_one_stream():
    shards = Shards(CITY, 4)
    assert shards.stream_for("iot", {"device_id": "aq-0042", "value": "1"}) == "city:iot:{0}"
    assert shards.stream_for("iot", {"device_id": "aq-0042", "value": "2"}) == "city:iot:{0}"
    assert shards.stream_for("complaints", {"request_id": "SZ-2026-000123"}) == "city:complaints:{1}"
    assert shards.stream_for("datacenter", {"site": "dc-shenzhen-1"}) == "city:datacenter:{3}"


def test_an_event_without_its_identity_goes_to_shard_zero_where_ingest_refuses_it():
    assert Shards(CITY, 4).stream_for("iot", {"metric": "pm25"}) == "city:iot:{0}"


def test_ten_thousand_devices_spread_evenly_over_the_shards():
    spread = Counter(shard_of(f"aq-{i:05d}", 8) for i in range(10_000))
    assert len(spread) == 8 and all(1000 <= n <= 1500 for n in spread.values()), spread


@pytest.mark.parametrize("count", [0, 1025])
def test_a_shard_count_out_of_range_is_refused(count):
    with pytest.raises(ValueError, match="shards must be"):
        Shards(CITY, count)


def test_a_reader_asks_every_shard_once_starting_after_the_last_that_gave_entries():
    assert shard_order(2, 4) == [2, 3, 0, 1]
    assert shard_order(0, 1) == [0]
