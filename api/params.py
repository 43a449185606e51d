"""Query parameters: each declared once, and both parsed from the request and described in the OpenAPI document
from that one declaration, so the document cannot say something the code does not do.

Every value is hostile until parsed: bounded in length, matched against a pattern or a list of choices, numbers
within limits, times with their zone and within the years this API holds. A bad one is a ``BadParameter``,
answered 400 naming the parameter; parameters nobody declared are refused too, so a typo is not silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
Kind = Literal["string", "integer", "datetime", "choice", "choices"]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"  # device ids, district ids, metric names (docs/EVENTS.md)


class BadParameter(ValueError):
    """A parameter that cannot be used; ``status`` 400 (malformed) or 422 (well-formed, not answerable)."""

    def __init__(self, parameter: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter, self.status = parameter, status


@dataclass(frozen=True)
class Param:
    """One query parameter: its name, kind, description and bounds."""

    name: str
    kind: Kind
    description: str
    pattern: str = ID_PATTERN
    max_length: int = 128
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    default: str | int | None = None
    required: bool = False

    def schema(self) -> dict:
        """The JSON Schema (2020-12, as OpenAPI 3.1 has it) of this parameter's value."""
        if self.kind == "integer":
            return _without_none({"type": "integer", "minimum": self.minimum, "maximum": self.maximum,
                                  "default": self.default})  # fmt: skip
        if self.kind == "datetime":
            return {"type": "string", "format": "date-time"}
        if self.kind == "choice":
            return _without_none({"type": "string", "enum": list(self.choices), "default": self.default})
        if self.kind == "choices":
            return {"type": "array", "items": {"type": "string", "enum": list(self.choices)}, "minItems": 1,
                    "maxItems": len(self.choices), "uniqueItems": True}  # fmt: skip
        return {"type": "string", "pattern": self.pattern, "maxLength": self.max_length}

    def openapi(self) -> dict:
        """This parameter as an OpenAPI parameter object."""
        item = {"name": self.name, "in": "query", "required": self.required, "description": self.description,
                "schema": self.schema()}  # fmt: skip
        if self.kind == "choices":
            item |= {"style": "form", "explode": False}
        return item

    def parse(self, raw: str) -> object:
        """The value of ``raw``, or ``BadParameter``."""
        if len(raw) > max(self.max_length, 64):
            raise BadParameter(self.name, f"`{self.name}` is at most {self.max_length} characters.")
        if self.kind == "integer":
            return self._integer(raw)
        if self.kind == "datetime":
            return parse_time(self.name, raw)
        if self.kind == "choice":
            if raw not in self.choices:
                raise BadParameter(self.name, f"`{self.name}` is one of: {', '.join(self.choices)}.")
            return raw
        if self.kind == "choices":
            return self._choices(raw)
        if not re.fullmatch(self.pattern, raw):
            raise BadParameter(self.name, f"`{self.name}` must match {self.pattern}.")
        return raw

    def _integer(self, raw: str) -> int:
        if not re.fullmatch(r"[+-]?\d{1,9}", raw.strip()):
            raise BadParameter(self.name, f"`{self.name}` is a whole number.")
        value = int(raw)
        low = self.minimum if self.minimum is not None else -(10**9)
        high = self.maximum if self.maximum is not None else 10**9
        if not low <= value <= high:
            raise BadParameter(self.name, f"`{self.name}` is from {low} to {high}.")
        return value

    def _choices(self, raw: str) -> tuple[str, ...]:
        picked = tuple(raw.split(","))
        if not picked or any(p not in self.choices for p in picked) or len(set(picked)) != len(picked):
            raise BadParameter(self.name, f"`{self.name}` is a comma-separated list of distinct values from: "
                                          f"{', '.join(self.choices)}.")  # fmt: skip
        return picked


def parse_time(name: str, raw: str) -> datetime:
    """An RFC 3339 date-time with its offset, as UTC, between 2000 and 2100."""
    text = raw.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text)
        if moment.tzinfo is None:
            raise ValueError("no offset")
        moment = moment.astimezone(UTC)
    except (ValueError, OverflowError, IndexError):
        raise BadParameter(
            name, f"`{name}` is an RFC 3339 date-time with its offset, e.g. 2026-05-01T08:00:00Z."
        ) from None
    if not EARLIEST <= moment < LATEST:
        raise BadParameter(name, f"`{name}` is between {EARLIEST:%Y} and {LATEST:%Y}.", 422)
    return moment


def parse_query(args: Mapping[str, Sequence[str]], params: Sequence[Param]) -> dict[str, object]:
    """Every declared parameter's value (its default when absent); unknown or repeated parameters are refused."""
    declared = {p.name: p for p in params}
    unknown = sorted(set(args) - set(declared))
    if unknown:
        raise BadParameter(unknown[0][:40], f"Unknown parameter `{unknown[0][:40]}`; this endpoint takes: "
                                            f"{', '.join(declared) or 'none'}.")  # fmt: skip
    values: dict[str, object] = {}
    for name, param in declared.items():
        raw = args.get(name)
        if not raw and param.required:
            raise BadParameter(name, f"`{name}` is required.")
        if not raw:
            values[name] = param.default
        elif len(raw) > 1:
            raise BadParameter(name, f"`{name}` is given once.")
        else:
            values[name] = param.parse(raw[0])
    return values


def _without_none(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if v is not None}
