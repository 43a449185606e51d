"""Is a Dash callback request shaped like the callback it names? Checked before Dash runs the callback.

Dash trusts the body a browser posts to ``/_dash-update-component``: ``inputs`` of the wrong length, an item that
is not an object, or a ``value`` of a type no component sends all reach Dash's dispatch or the callback and end
in a 500. A crafted client is not a browser, so the gate compares each request with what the callback declared
(its inputs and states, by id and property) and with what the components we use can send for a property. What a
well-formed value means stays the callback's business (a store's ``data`` is checked where it is read).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

MAX_PATTERN_ITEMS = 1_000  # one ALL input lists every matching component: rows of a table, not more
MAX_TEXT = 10_000
MAX_CHANGED = 64
MAX_DEPTH = 32


def _count(value: object) -> bool:
    return value is None or (type(value) is int and 0 <= value <= 2**53)


def _short_text(value: object) -> bool:
    return value is None or (isinstance(value, str) and len(value) <= 4_096)


def _scalar(value: object) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return value is None or isinstance(value, bool | int | float)


def _field_value(value: object) -> bool:
    if isinstance(value, list):
        return len(value) <= MAX_PATTERN_ITEMS and all(_scalar(v) and v is not None for v in value)
    return _scalar(value)


def _rows(value: object) -> bool:
    return value is None or (isinstance(value, list) and len(value) <= MAX_PATTERN_ITEMS
                             and all(isinstance(row, Mapping) for row in value))  # fmt: skip


# What the components we use send for a property; a property not listed may hold any JSON value.
PROPERTY_VALUES: dict[str, Callable[[object], bool]] = {
    "n_clicks": _count,
    "n_intervals": _count,
    "pathname": lambda v: v is None or (isinstance(v, str) and v.startswith("/") and len(v) <= 4_096),
    "search": _short_text,
    "value": _field_value,
    "selectedRows": _rows,
    "clickData": lambda v: v is None or isinstance(v, Mapping),
    "id": lambda v: isinstance(v, str | Mapping),
    # a map's view (dash-leaflet's trackViewport): a zoom level and [[south, west], [north, east]]
    "zoom": lambda v: v is None or (isinstance(v, int | float) and not isinstance(v, bool)),
    "bounds": lambda v: v is None or (isinstance(v, list) and len(v) == 2
                                      and all(isinstance(c, list) and len(c) == 2 for c in v)),
}


def body_problem(body: object, declared: Mapping) -> str | None:
    """Why ``body`` cannot be a request for the callback ``declared`` (an entry of Dash's callback map), or None."""
    if not isinstance(body, Mapping):
        return "the body is not an object"
    if not _finite(body, 0):
        return "the body holds a number that is not finite, or is nested too deep"
    changed = body.get("changedPropIds", [])
    if not (isinstance(changed, list) and len(changed) <= MAX_CHANGED and all(isinstance(c, str) for c in changed)):
        return "'changedPropIds' is not a short list of names"
    problem = _outputs_problem(body.get("outputs"), str(body.get("output", "")))
    if problem:
        return problem
    for part in ("inputs", "state"):
        problem = _items_problem(part, body.get(part, []), declared.get(part, []))
        if problem:
            return problem
    return None


def _outputs_problem(sent: object, key: str) -> str | None:
    """``outputs`` must name the outputs the key declares (Dash indexes them without looking)."""
    declared = _declared_outputs(key)
    if len(declared) == 1 and not key.startswith(".."):
        sent = [sent]
    if not isinstance(sent, list) or len(sent) != len(declared):
        return f"'outputs' does not list the callback's {len(declared)} outputs"
    for item, (component, prop) in zip(sent, declared, strict=True):
        pattern = _is_pattern(component)
        group = item if pattern and isinstance(item, list) else [item]
        # The browser sends an allow_duplicate output's property without the key's "@<hash>".
        properties = (prop, prop.partition("@")[0])
        if len(group) > MAX_PATTERN_ITEMS or not all(
            isinstance(i, Mapping) and i.get("property") in properties and _output_id_fits(i.get("id"), component)
            for i in group
        ):
            return f"'outputs' has a bad item for {component}.{prop}"
    return None


def _output_id_fits(sent: object, component: str) -> bool:
    """A pattern output names one concrete component (no wildcards); any other output names its own id."""
    if not _is_pattern(component):
        return sent == component
    return isinstance(sent, Mapping) and all(isinstance(v, str | int | float | bool) for v in sent.values())


def _declared_outputs(key: str) -> list[tuple[str, str]]:
    """``..a.children...b.data..`` → ``[("a", "children"), ("b", "data")]``; a single output has no dots around."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    return [(component, prop) for component, _, prop in (part.rpartition(".") for part in parts)]


def _items_problem(part: str, sent: object, declared: list[Mapping]) -> str | None:
    if not isinstance(sent, list) or len(sent) != len(declared):
        return f"'{part}' does not list the callback's {len(declared)} {part}"
    for item, spec in zip(sent, declared, strict=True):
        name = f"{spec['id']}.{spec['property']}"
        if _is_pattern(spec["id"]) and isinstance(item, list):
            if len(item) > MAX_PATTERN_ITEMS or not all(_item_fits(i, spec, pattern=True) for i in item):
                return f"'{part}' has a bad list for {name}"
        elif not _item_fits(item, spec, pattern=_is_pattern(spec["id"])):
            return f"'{part}' has a bad item for {name}"
    return None


def _item_fits(item: object, spec: Mapping, *, pattern: bool) -> bool:
    if not isinstance(item, Mapping) or item.get("property") != spec["property"]:
        return False
    if pattern:
        if not isinstance(item.get("id"), Mapping):
            return False
    elif item.get("id") != spec["id"]:
        return False
    accepts = PROPERTY_VALUES.get(spec["property"])
    return accepts is None or accepts(item.get("value"))


def _is_pattern(component_id: object) -> bool:
    if isinstance(component_id, Mapping):
        return True
    if not (isinstance(component_id, str) and component_id.startswith("{")):
        return False
    try:
        return isinstance(json.loads(component_id), Mapping)
    except ValueError:
        return False


def _finite(value: object, depth: int) -> bool:
    """No NaN or infinity anywhere (Python's JSON reader accepts them) and no absurd nesting."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v, depth + 1) for v in value)
    return True
