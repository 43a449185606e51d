"""The gate's shape check of Dash callback requests: what a browser sends passes, what only a crafted client
sends is named."""

from __future__ import annotations

import math

from auth.callback_body import body_problem
from callbacks import choices

SINGLE = {"inputs": [{"id": "map-tick", "property": "n_intervals"}],
          "state": [{"id": "map-filter-kind", "property": "value"}]}  # fmt: skip
PATTERN = {"inputs": [{"id": '{"action":["ALL"],"type":"alerts-action"}', "property": "n_clicks"}], "state": []}


def _single(tick: object = 3, kinds: object = ("water_level",), **extra: object) -> dict:
    return {"output": "map-layer-sensors.data", "outputs": {"id": "map-layer-sensors", "property": "data"},
            "inputs": [{"id": "map-tick", "property": "n_intervals", "value": tick}],
            "state": [{"id": "map-filter-kind", "property": "value", "value": list(kinds)}],
            "changedPropIds": ["map-tick.n_intervals"], **extra}  # fmt: skip


def test_what_a_browser_sends_passes():
    assert body_problem(_single(), SINGLE) is None
    assert body_problem(_single(tick=None, kinds=()), SINGLE) is None
    clicked = {"output": "..alerts-message.children...alerts-changed.data@9827c7bd..",  # allow_duplicate
               "outputs": [{"id": "alerts-message", "property": "children"},
                           {"id": "alerts-changed", "property": "data"}],
               "inputs": [[{"id": {"action": "ack", "type": "alerts-action"}, "property": "n_clicks", "value": 1},
                           {"id": {"action": "resolve", "type": "alerts-action"}, "property": "n_clicks"}]],
               "state": [], "changedPropIds": ['{"action":"ack","type":"alerts-action"}.n_clicks']}  # fmt: skip
    assert body_problem(clicked, PATTERN) is None


def test_a_body_of_another_shape_is_named():
    assert "not an object" in body_problem([1], SINGLE)
    assert "'inputs'" in body_problem({**_single(), "inputs": "x"}, SINGLE)
    assert "'inputs'" in body_problem({**_single(), "inputs": []}, SINGLE)
    assert "'state'" in body_problem({**_single(), "state": [None]}, SINGLE)
    assert "'outputs'" in body_problem({**_single(), "outputs": [{"id": "a", "property": "b"}] * 2}, SINGLE)
    assert "'outputs'" in body_problem({**_single(), "outputs": {"id": "other", "property": "data"}}, SINGLE)
    assert "'outputs'" in body_problem({k: v for k, v in _single().items() if k != "outputs"}, SINGLE)
    assert "changedPropIds" in body_problem({**_single(), "changedPropIds": [5]}, SINGLE)
    other_component = {**_single(), "inputs": [{"id": "wall-tick", "property": "n_intervals", "value": 1}]}
    assert "map-tick.n_intervals" in body_problem(other_component, SINGLE)


def test_values_no_component_of_ours_sends_are_refused():
    for tick in (-1, 2**60, 1.5, True, "3", {"a": 1}):
        assert "map-tick.n_intervals" in body_problem(_single(tick=tick), SINGLE), tick
    for kinds in ([{"a": 1}], [None], ["x" * 20_000]):
        assert "map-filter-kind.value" in body_problem(_single(kinds=kinds), SINGLE), kinds
    assert "not finite" in body_problem(_single(kinds=[math.inf]), SINGLE)
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert "too deep" in body_problem({**_single(), "extra": deep}, SINGLE)


def test_choices_read_only_words():
    assert choices.one("water_level") == "water_level"
    assert choices.one({"a": 1}) is None and choices.one(5) is None and choices.one("x" * 300) is None
    assert choices.several(["b", "a", 5, None]) == ("a", "b")
    assert choices.several("a") == ("a",) and choices.several(7) == () and choices.several(["a"] * 101) == ()
