"""The consumer-group reader that ingest and alerting share, against real Redis: set-up, read over several
streams in one call, re-read after a restart, claim from a dead consumer, acknowledge, forget the long gone."""

from __future__ import annotations

import pytest

from settings import Settings
from streams.consumer_group import ConsumerGroup, ShardEntries
from streams.shards import Shards
from tests.integration.events import complaint, fill, reading

pytestmark = pytest.mark.integration


def served(settings: Settings) -> dict[str, str]:
    """Two streams of the test's own, named as shards will be (a hash tag in braces)."""
    return {"iot": f"{settings.stream_iot}:{{0}}", "complaints": f"{settings.stream_complaints}:{{0}}"}


def member(rds, settings: Settings, consumer: str, batch: int = 100) -> ConsumerGroup:
    return ConsumerGroup(rds, settings.consumer_group, consumer, [served(settings)], batch, retry_max_s=0.5)


def acknowledge(group: ConsumerGroup, entries: ShardEntries) -> None:
    pipe = group.client.pipeline(transaction=True)
    ids = {kind: [entry_id for entry_id, _ in kind_entries] for kind, kind_entries in entries.items()}
    group.ack(pipe, ids, entries.shard)
    pipe.execute()


def pending(rds, settings: Settings) -> dict[str, int]:
    return {kind: rds.xpending(stream, settings.consumer_group)["pending"] for kind, stream in served(settings).items()}


def test_one_read_serves_every_stream_and_entries_before_the_group_count_from_the_start(rds, test_settings):
    streams = served(test_settings)
    fill(rds, streams["iot"], [reading(f"aq-{i}") for i in range(3)])
    group = member(rds, test_settings, "w1")
    group.ensure(first_id="0")
    group.ensure(first_id="0")  # every worker does this at start: the group is there already, which is fine
    fill(rds, streams["complaints"], [complaint("SZ-1", "open", 1_764_000_000_000)])
    entries = group.read_new(block_ms=None)
    assert {kind: len(e) for kind, e in entries.items()} == {"iot": 3, "complaints": 1}
    assert pending(rds, test_settings) == {"iot": 3, "complaints": 1}
    acknowledge(group, entries)
    assert pending(rds, test_settings) == {"iot": 0, "complaints": 0}
    assert group.read_new(block_ms=None) == {}


def test_a_group_made_at_the_end_reads_only_what_comes_next(rds, test_settings):
    streams = served(test_settings)
    fill(rds, streams["iot"], [reading("aq-1")])
    group = member(rds, test_settings, "evaluator")
    group.ensure(first_id="$")
    fill(rds, streams["iot"], [reading("aq-2")])
    entries = group.read_new(block_ms=None)
    assert [dict(zip(f[::2], f[1::2], strict=True))[b"device_id"] for _, f in entries["iot"]] == [b"aq-2"]


def test_a_restarted_consumer_re_reads_what_it_never_acknowledged_a_batch_at_a_time(rds, test_settings):
    fill(rds, served(test_settings)["iot"], [reading(f"aq-{i}") for i in range(5)])
    before = member(rds, test_settings, "w1", batch=2)
    before.ensure(first_id="0")
    for _ in range(3):
        before.read_new(block_ms=None)  # delivered, then the process died
    after = member(rds, test_settings, "w1", batch=2)
    batches = []
    for entries in after.own_pending():
        batches.append(len(entries["iot"]))
        acknowledge(after, entries)
    assert batches == [2, 2, 1] and pending(rds, test_settings)["iot"] == 0


def test_entries_of_a_dead_consumer_are_claimed_and_trimmed_ones_only_acknowledged(rds, test_settings):
    stream = served(test_settings)["iot"]
    fill(rds, stream, [reading(f"aq-{i}") for i in range(4)])
    dead = member(rds, test_settings, "dead")
    dead.ensure(first_id="0")
    delivered = dead.read_new(block_ms=None)["iot"]
    rds.xdel(stream, delivered[0][0])  # its data gone before anyone claims it
    rescuer = member(rds, test_settings, "rescuer", batch=2)
    claimed = [entries for entries in rescuer.claim_stale(min_idle_ms=0)]
    assert [entry_id for entries in claimed for entry_id, _ in entries["iot"]] == [i for i, _ in delivered[1:]]
    assert pending(rds, test_settings)["iot"] == 3  # the trimmed one was acknowledged; the rest are the rescuer's
    assert {c["name"]: c["pending"] for c in rds.xinfo_consumers(stream, test_settings.consumer_group)} == {
        b"dead": 0, b"rescuer": 3}  # fmt: skip


def test_only_consumers_holding_nothing_are_forgotten_and_never_oneself(rds, test_settings):
    streams = served(test_settings)
    fill(rds, streams["iot"], [reading("aq-1")])
    holding, me = member(rds, test_settings, "holding"), member(rds, test_settings, "me")
    holding.ensure(first_id="0")
    holding.read_new(block_ms=None)
    for name in ("gone", "me"):  # consumers that hold nothing (a worker that stopped cleanly, and this one)
        rds.xgroup_createconsumer(streams["iot"], test_settings.consumer_group, name)
    me.forget_idle_consumers(idle_ms=-1)  # any idle time at all counts as long gone here
    names = {c["name"] for c in rds.xinfo_consumers(streams["iot"], test_settings.consumer_group)}
    assert names == {b"holding", b"me"}


def test_with_shards_each_read_is_one_shards_entries_in_turn_and_acknowledged_on_that_shards_streams(
    rds, test_settings
):
    shards = Shards(test_settings.streams, 3)
    for shard in range(3):
        fill(rds, shards.streams(shard)["iot"], [reading(f"aq-{shard}-{i}") for i in range(shard + 1)])
    group = ConsumerGroup(rds, test_settings.consumer_group, "w1", shards.each, 100, retry_max_s=0.5)
    group.ensure(first_id="0")
    reads = [group.read_new(block_ms=10) for _ in range(4)]
    assert [(entries.shard, len(entries.get("iot", []))) for entries in reads[:3]] == [(0, 1), (1, 2), (2, 3)]
    assert reads[3] == {}  # every shard empty: the read waited on one shard, briefly, and came back empty
    for entries in reads[:3]:
        acknowledge(group, entries)
    assert [rds.xpending(shards.streams(shard)["iot"], test_settings.consumer_group)["pending"]
            for shard in range(3)] == [0, 0, 0]  # fmt: skip


def test_with_shards_a_restarted_consumer_re_reads_its_pending_entries_of_every_shard(rds, test_settings):
    shards = Shards(test_settings.streams, 2)
    for shard in range(2):
        fill(rds, shards.streams(shard)["complaints"], [complaint(f"SZ-{shard}", "open", 1_764_000_000_000)])
    before = ConsumerGroup(rds, test_settings.consumer_group, "w1", shards.each, 100, retry_max_s=0.5)
    before.ensure(first_id="0")
    before.read_new(block_ms=None), before.read_new(block_ms=None)  # delivered, then the process died
    after = ConsumerGroup(rds, test_settings.consumer_group, "w1", shards.each, 100, retry_max_s=0.5)
    seen = []
    for entries in after.own_pending():
        seen.append((entries.shard, len(entries["complaints"])))
        acknowledge(after, entries)
    assert seen == [(0, 1), (1, 1)]
