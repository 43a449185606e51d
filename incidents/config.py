"""The ``[incidents]`` table of the rules file: how alerts and complaints are grouped (docs/ALERTS.md)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alerts.rule_fields import duration_s
from incidents.grouping import GroupingRules

SEVERITIES = ("critical", "warning", "info")
FIELDS = {"enabled", "window", "distance_m", "quiet", "open_severities", "open_rules", "join_rules",
          "complaint_categories", "max_members", "max_open"}  # fmt: skip
# Bounds on what the file may ask for: beyond them grouping stops meaning "close by" or costs too much.
MAX_DISTANCE_M = 50_000.0
MAX_WINDOW_S = 7 * 86400.0
MAX_MEMBERS = 10_000
MAX_OPEN = 10_000


def parse_grouping(table: object, rule_ids: Collection[str], problems: list[str]) -> GroupingRules:
    """Validate the ``[incidents]`` table; each mistake is appended to ``problems`` as "[incidents] field 'x': …",
    naming rules that do not exist too. Without the table nothing is grouped: receivers of a rules file written
    before incidents existed get no new kind of webhook until someone asks for it."""
    if table is None:
        return GroupingRules(enabled=False)
    if not isinstance(table, Mapping):
        problems.append("[incidents] must be a table")
        return GroupingRules()
    found: list[str] = [f"field {name!r}: unknown field" for name in sorted(set(table) - FIELDS)]
    defaults = GroupingRules()
    values: dict[str, Any] = {}
    if "enabled" in table:
        if isinstance(table["enabled"], bool):
            values["enabled"] = table["enabled"]
        else:
            found.append("field 'enabled': true or false")
    for name, attr, limit in (("window", "window_s", MAX_WINDOW_S), ("quiet", "quiet_s", MAX_WINDOW_S)):
        if name in table:
            try:
                seconds = duration_s(table[name])
            except ValueError as bad:
                found.append(f"field {name!r}: {bad}")
                continue
            if not 0 < seconds <= limit:
                found.append(f"field {name!r}: more than 0 and at most {limit / 86400:g} days")
            values[attr] = seconds
    _number(table, "distance_m", 0.0, MAX_DISTANCE_M, float, values, found)
    _number(table, "max_members", 1, MAX_MEMBERS, int, values, found)
    _number(table, "max_open", 1, MAX_OPEN, int, values, found)
    for name in ("open_severities", "open_rules", "join_rules", "complaint_categories"):
        if name in table:
            items = table[name]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                found.append(f"field {name!r}: a list of strings")
                continue
            values[name] = frozenset(items)
    for severity in sorted(values.get("open_severities", defaults.open_severities)):
        if severity not in SEVERITIES:
            found.append(f"field 'open_severities': {severity!r} is not one of {', '.join(SEVERITIES)}")
    for name in ("open_rules", "join_rules"):
        for rule_id in sorted(values.get(name, ())):
            if rule_id not in rule_ids:
                found.append(f"field {name!r}: no rule {rule_id!r} in this file")
    problems += [f"[incidents] {p}" for p in found]
    return GroupingRules(**{**defaults.__dict__, **values}) if not found else defaults


def _number(table: Mapping[str, Any], name: str, low: float, high: float, kind: type, values: dict[str, Any],
            found: list[str]) -> None:  # fmt: skip
    if name not in table:
        return
    value = table[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        found.append(f"field {name!r}: a {'whole ' if kind is int else ''}number")
    elif not low <= value <= high:
        found.append(f"field {name!r}: from {low:g} to {high:g}")
    else:
        values[name] = kind(value)
