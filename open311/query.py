"""The arguments of GET ``requests.{fmt}``, checked the way the spec reads them (pure).

Every argument may be given once or repeated, comma-delimited or not; an empty one is the same as none (the
spec's "Optional Arguments"). ``service_request_id`` overrides all others. Dates are the W3 subset of ISO 8601
with an offset (``2010-01-01T00:00:00Z``); a bare date (``2010-01-01``) is the start of that day in the city.
Without dates the range is the most recent ``max_days``; with one, the other is ``max_days`` away; a range
longer than that is refused, as the spec says it may not span more. Anything else wrong is a 400 naming it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from open311.catalogue import CODE
from open311.paths import Open311Error

MAX_ID_CHARS = 256  # a request id's longest (docs/EVENTS.md)
MAX_CODES = 100  # a city has dozens of categories, not hundreds
STATUSES = ("open", "closed")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})")
_NO_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?")


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one query (settings IOC_OPEN311_MAX_*)."""

    max_requests: int
    max_days: int
    max_ids: int


@dataclass(frozen=True, slots=True)
class RequestsQuery:
    """What to list. ``ids`` set: those requests only. Otherwise requested in [start, end], of ``codes`` (None:
    all) and ``statuses`` (None: both), newest first, at most ``limit``."""

    ids: tuple[str, ...] | None
    codes: tuple[str, ...] | None
    statuses: tuple[str, ...] | None
    start: datetime | None
    end: datetime | None
    limit: int


def parse_requests_query(
    args: Mapping[str, Sequence[str]], now: datetime, zone: tzinfo, limits: Limits, known_codes: Collection[str]
) -> RequestsQuery:
    """The query ``args`` (name → every value given) ask for; ``Open311Error(400)`` for the first thing wrong."""
    ids = _listed(args, "service_request_id", limits.max_ids)
    if ids:
        if not all(possible_id(i) for i in ids):
            raise Open311Error(400, f"A service_request_id is at most {MAX_ID_CHARS} characters, without NUL.")
        return RequestsQuery(tuple(dict.fromkeys(ids)), None, None, None, None, limits.max_requests)
    codes = _listed(args, "service_code", MAX_CODES)
    for code in codes:
        if not CODE.fullmatch(code) or code not in known_codes:
            raise Open311Error(400, f"Unknown service_code {code[:64]!r}: services.xml or services.json lists them.")
    statuses = _listed(args, "status", len(STATUSES) * 4)
    for status in statuses:
        if status not in STATUSES:
            raise Open311Error(400, f"Unknown status {status[:32]!r}: it is open or closed (comma-delimited).")
    start, end = _range(_date(args, "start_date", zone), _date(args, "end_date", zone), now, limits.max_days)
    return RequestsQuery(
        None, tuple(dict.fromkeys(codes)) or None, tuple(sorted(set(statuses))) or None, start, end, limits.max_requests
    )


def possible_id(text: str) -> bool:
    """Whether a request could have this id: the contract's length, and no NUL (PostgreSQL text holds none, and
    psycopg refuses to send one: asked for, it would be an error rather than "no such request")."""
    return len(text) <= MAX_ID_CHARS and "\x00" not in text


def _listed(args: Mapping[str, Sequence[str]], name: str, most: int) -> list[str]:
    values = [part.strip() for given in args.get(name, ()) for part in given.split(",")]
    values = [v for v in values if v]
    if len(values) > most:
        raise Open311Error(400, f"At most {most} values of {name} in one query, not {len(values)}.")
    return values


def _date(args: Mapping[str, Sequence[str]], name: str, zone: tzinfo) -> datetime | None:
    given = [v.strip() for v in args.get(name, ()) if v.strip()]
    if not given:
        return None
    if len(given) > 1:
        raise Open311Error(400, f"Give {name} once, not {len(given)} times.")
    return parse_w3(given[0], name, zone)


def parse_w3(text: str, name: str, zone: tzinfo) -> datetime:
    """A W3 date-time with its offset, or a date (its start in ``zone``); ``Open311Error(400)`` otherwise."""
    shown = text[:40]
    try:
        if _DATE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), zone)
        if _DATETIME.fullmatch(text):
            return datetime.fromisoformat(text)
    except ValueError:  # the right shape, but no such day or hour (2025-02-30, 25:00)
        raise Open311Error(400, f"{name} {shown!r} is not a real date and time.") from None
    if _NO_OFFSET.fullmatch(text):
        raise Open311Error(400, f"{name} {shown!r} has no time zone: add Z or an offset such as +08:00.")
    raise Open311Error(400, f"{name} {shown!r} is not a W3 date-time such as 2010-01-01T00:00:00Z.")


def _range(start: datetime | None, end: datetime | None, now: datetime, max_days: int) -> tuple[datetime, datetime]:
    try:  # in UTC, so no bound reaches past year 1 or 9999 there either (the database could not say it back)
        first, last = _bounded(start, end, now, timedelta(days=max_days))
        return first.astimezone(UTC), last.astimezone(UTC)
    except OverflowError:
        raise Open311Error(400, "start_date or end_date is too far from today.") from None


def _bounded(start: datetime | None, end: datetime | None, now: datetime, span: timedelta) -> tuple[datetime, datetime]:
    if start is None and end is None:
        return now - span, now
    if start is None:
        return end - span, end
    if end is None:
        return start, start + span
    if start > end:
        raise Open311Error(400, "start_date is after end_date.")
    if end - start > span:
        raise Open311Error(400, f"start_date to end_date may span at most {span.days} days.")
    return start, end
