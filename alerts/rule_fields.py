"""Typed readers for the fields of one rule table; each problem is appended as "field 'x': what is wrong"."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_LABEL = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def duration_s(value: object) -> float:
    """'90s', '5m', '2h', '1d', '250ms' or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string such as '5m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (found := _DURATION.match(value)):
        seconds = float(found.group(1)) * _UNIT_S[found.group(2)]
    else:
        raise ValueError(f"a duration is a number of seconds or a string such as '5m', not {value!r}")
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError("a duration is a finite number, not negative")
    return seconds


class RuleFields:
    """Reads one table; remembers which keys were read so leftovers (typos) can be reported."""

    def __init__(self, table: Mapping[str, Any], problems: list[str], own_keys: set[str]) -> None:
        self.table = table
        self.problems = problems
        self.own_keys = own_keys  # keys written in the rule itself; [defaults] a rule type ignores are fine
        self.read: set[str] = set()

    def _get(self, name: str) -> Any:
        self.read.add(name)
        return self.table.get(name)

    def text(self, name: str, *, pattern: re.Pattern | None = None, hint: str = "") -> str | None:
        value = self._get(name)
        if value is None:
            self.problems.append(f"field {name!r}: missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"field {name!r}: must be a non-empty string")
            return None
        if pattern is not None and not pattern.match(value):
            self.problems.append(f"field {name!r}: {value!r} is not {hint}")
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, default: str | None = None,
               required: bool = True) -> str | None:  # fmt: skip
        value = self._get(name)
        if value is None:
            if default is None and required:
                self.problems.append(f"field {name!r}: missing (one of {', '.join(allowed)})")
            return default
        if value not in allowed:
            self.problems.append(f"field {name!r}: {value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def number(self, name: str, *, required: bool = True) -> float | None:
        value = self._get(name)
        if value is None:
            if required:
                self.problems.append(f"field {name!r}: missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.problems.append(f"field {name!r}: must be a finite number, not {value!r}")
            return None
        return float(value)

    def duration(self, name: str, *, default: float | None = None, positive: bool = False) -> float | None:
        value = self._get(name)
        if value is None:
            if default is None:
                self.problems.append(f"field {name!r}: missing (a duration such as '5m')")
            return default
        try:
            seconds = duration_s(value)
        except ValueError as bad:
            self.problems.append(f"field {name!r}: {bad}")
            return None
        if positive and seconds <= 0:
            self.problems.append(f"field {name!r}: must be longer than zero")
            return None
        return seconds

    def labels(self) -> dict[str, str]:
        value = self._get("labels")
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problems.append("field 'labels': must be a table of name = \"value\"")
            return {}
        bad = [k for k, v in value.items() if not _LABEL.match(k) or not isinstance(v, str)]
        if bad:
            self.problems.append(f"field 'labels': {', '.join(map(repr, bad))}: names are lower_snake_case, "
                                 "values strings")  # fmt: skip
        return {k: v for k, v in value.items() if k not in bad}

    def matchers(self, source: str | None, matchable: Mapping[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
        value = self._get("match")
        if value is None or source is None:
            return {}
        if not isinstance(value, Mapping):
            self.problems.append("field 'match': must be a table such as { kind = \"air_quality\" }")
            return {}
        out: dict[str, frozenset[str]] = {}
        for key, wanted in value.items():
            if key not in matchable[source]:
                self.problems.append(f"field 'match.{key}': the {source!r} stream can be matched on "
                                     f"{', '.join(matchable[source])}")  # fmt: skip
                continue
            items = [wanted] if isinstance(wanted, str) else wanted
            if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
                self.problems.append(f"field 'match.{key}': a string or a list of strings")
                continue
            out[key] = frozenset(items)
        return out

    def unused(self, known: frozenset[str], rule_type: str | None) -> None:
        """Report keys nobody read: a typo ('treshold') or a field that means nothing for this rule type."""
        for name in sorted(self.own_keys - self.read - {"id", "type"}):
            why = f"not used by a {rule_type} rule" if name in known and rule_type else "unknown field"
            self.problems.append(f"field {name!r}: {why}")
