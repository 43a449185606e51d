"""Cursor pagination and ETags, the same for every list the API answers.

A cursor is opaque to clients: base64url of a small JSON object holding where the next page starts and a
fingerprint of the query it belongs to, so a cursor handed to another query is refused (400) instead of quietly
paging through something else. A cursor only moves a position inside a bounded answer, so a forged one can skip
rows but never reach rows the query would not return.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from api.params import BadParameter

PAGING = ("cursor", "limit")


def fingerprint(query: Mapping[str, object]) -> str:
    """A short digest of the query's parameters other than the paging ones."""
    kept = {k: str(v) for k, v in sorted(query.items()) if k not in PAGING and v is not None}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def encode_cursor(query: Mapping[str, object], position: int | str) -> str:
    """The cursor of the page starting at ``position`` of this query."""
    raw = json.dumps({"q": fingerprint(query), "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: Mapping[str, object], kind: type = int) -> Any:
    """The position in ``query["cursor"]`` (None: the first page), or ``BadParameter``."""
    raw = query.get("cursor")
    if raw is None:
        return None
    bad = BadParameter("cursor", "`cursor` is not a cursor of this query: take the `next` link of the page before.")
    try:
        text = base64.urlsafe_b64decode(str(raw) + "=" * (-len(str(raw)) % 4))
        doc = json.loads(text)
    except (binascii.Error, ValueError, RecursionError):
        raise bad from None
    if not isinstance(doc, dict) or doc.get("q") != fingerprint(query):
        raise bad
    position = doc.get("p")
    if not isinstance(position, kind) or isinstance(position, bool) or (kind is int and not 0 <= position <= 10**7):
        raise bad
    return position


def page(items: Sequence, query: Mapping[str, object]) -> tuple[list, str | None]:
    """The page of ``items`` the query's cursor and limit ask for, and the next page's cursor (None: last page)."""
    start = decode_cursor(query) or 0
    limit = int(query["limit"])
    rows = list(items[start : start + limit])
    more = start + limit < len(items)
    return rows, encode_cursor(query, start + limit) if more else None


def etag(body: bytes) -> str:
    """A strong validator of a response body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def not_modified(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (or ``*``); weak comparison, as RFC 9110 has it for GET."""
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match[:4096].split(",")}
    return "*" in wanted or tag in wanted
