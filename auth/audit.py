"""The audit trail: who did what, when, from which address, and whether it was allowed.

``audit_log`` is append-only in the database (triggers refuse UPDATE, DELETE and TRUNCATE, migration 0007), so
this module only inserts and reads. A record is written in the same transaction as the change it describes,
so there is never a change without its record, nor a record of a change that was rolled back.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from auth.principal import Principal

_dumps = functools.partial(json.dumps, default=str)  # datetimes in details become ISO text
OUTCOMES = ("ok", "denied", "failed")
COLUMNS = ("at", "actor", "role", "action", "target", "outcome", "address", "details")
MAX_NAME_CHARS = 128
PAGE_LIMIT = 500  # rows on the audit page; the CSV export pages through everything matching
EXPORT_LIMIT = 100_000


def record(
    conn: psycopg.Connection,
    actor: Principal | None,
    action: str,
    target: str = "",
    outcome: str = "ok",
    details: Mapping[str, Any] | None = None,
    *,
    name: str | None = None,
    address: str = "",
) -> None:
    """Append one entry; ``name`` and ``address`` stand in when nobody is signed in (a failed sign-in)."""
    conn.execute(
        "INSERT INTO audit_log (actor, role, action, target, outcome, address, details)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            (actor.name if actor else name or "anonymous")[:MAX_NAME_CHARS],
            str(actor.role) if actor else "",
            action,
            target[: MAX_NAME_CHARS * 2],
            outcome,
            (actor.address if actor else address)[:64],
            Jsonb(dict(details or {}), dumps=_dumps),
        ),
    )


@dataclass(frozen=True)
class AuditQuery:
    """A filter of the audit page and the CSV export; empty fields match everything."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""  # exact user name
    action: str = ""  # prefix: "alert." matches every alert action
    outcome: str = ""

    def where(self) -> tuple[str, list[object]]:
        clauses, params = [], []
        if self.since is not None:
            clauses.append("at >= %s")
            params.append(self.since)
        if self.until is not None:
            clauses.append("at < %s")
            params.append(self.until)
        if self.actor:
            clauses.append("actor = %s")
            params.append(self.actor)
        if self.action:
            clauses.append("starts_with(action, %s)")
            params.append(self.action)
        if self.outcome:
            clauses.append("outcome = %s")
            params.append(self.outcome)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def entries(conn: psycopg.Connection, query: AuditQuery, limit: int = PAGE_LIMIT) -> list[dict]:
    """Matching entries, newest first."""
    where, params = query.where()
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            f"SELECT {', '.join(COLUMNS)} FROM audit_log{where} ORDER BY at DESC, id DESC LIMIT %s", (*params, limit)
        ).fetchall()


def csv_text(rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """CSV lines (header first) of audit rows, safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    yield _drain(out)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
        yield _drain(out)


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: user names and details come from outside.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
