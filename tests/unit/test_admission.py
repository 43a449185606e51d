"""The pure parts of the new-identity cap: which records are kept, which are over it; and what the page shows."""

from __future__ import annotations

from types import SimpleNamespace

from layouts.pipeline import pipeline_table
from streams.admission import Caps, NewIdCap, counter_key, new_identities, split_new
from streams.status import assemble_status
from tests.unit.test_alert_console_builders import text


def reading(device: str) -> SimpleNamespace:
    return SimpleNamespace(device_id=device)


def test_known_ids_are_kept_then_the_first_granted_new_ones_with_all_their_entries():
    records = [reading(d) for d in ["a", "x", "b", "y", "x", "z", "a", "y"]]
    kept, over, admitted = split_new(records, "iot", known={"a", "b"}, granted=2)
    assert [r.device_id for r in kept] == ["a", "x", "b", "y", "x", "a", "y"]
    assert [r.device_id for r in over] == ["z"]
    assert admitted == ["x", "y"]


def test_nothing_granted_keeps_only_known_ids():
    kept, over, admitted = split_new([reading("n1"), reading("k"), reading("n2")], "iot", {"k"}, 0)
    assert [r.device_id for r in kept] == ["k"] and len(over) == 2 and admitted == []


def test_new_identities_are_distinct_and_in_order():
    sites = [SimpleNamespace(site=s) for s in ["dc-2", "dc-1", "dc-2", "dc-3"]]
    assert new_identities(sites, "datacenter", {"dc-3"}) == ["dc-2", "dc-1"]


def test_the_known_cache_is_bounded_and_the_counter_is_per_stream_and_minute(monkeypatch):
    monkeypatch.setattr("streams.admission.KNOWN_CACHE_LIMIT", 3)
    cap = NewIdCap(Caps({"iot": 10}), "ioc-ingest", clock=lambda: 120.5)
    cap.remember("iot", ["a", "b", "c", "d"])
    assert len(cap.known_set("iot")) <= 3
    assert cap.unknown("iot", [reading("d"), reading("e")]) == ["e"]
    assert counter_key("ioc-ingest", "city:iot", 2) == "ioc-ingest:new:city:iot:2"
    assert "10 new device ids" in Caps({"iot": 10}).reason("iot")


def test_the_pipeline_page_shows_entries_over_the_cap_per_stream():
    status = assemble_status(["city:iot"], {"city:iot": {"length": 5}},
                             {b"city:iot:rejected": b"7", b"city:iot:rejected:too_many_new": b"6",
                              b"forgotten_devices": b"3"}, 0)  # fmt: skip
    assert status["streams"][0]["too_many_new"] == 6 and status["forgotten_devices"] == 3
    shown = text(pipeline_table(status["streams"]))
    assert "of which new ids over the cap" in shown and shown.endswith("7 6")


def test_the_snapshot_keeps_whole_devices_up_to_its_bound():
    from live.queries import _first_devices

    rows = [(f"d-{d}", m) for d in range(5) for m in ("a", "b")]
    assert _first_devices(rows, 2) == rows[:4]  # two devices, both metrics
    assert _first_devices(rows[:5], 9) == rows[:4]  # rows cut inside d-2: it is left out, not shown half
