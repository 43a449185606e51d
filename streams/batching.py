"""Turn the raw entries of one read into a storage ``Batch`` plus the dead letters (pure)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from storage.event_store import Batch
from streams.complaints import parse_complaint
from streams.datacenter import parse_power_sample
from streams.fields import Fields, FlatFields, InvalidEvent, ParseContext, as_mapping
from streams.iot import parse_reading

log = logging.getLogger(__name__)

Entry = tuple[bytes, Fields | FlatFields | None]  # or a [id, fields] list, as Redis replies; None: trimmed
PARSERS: dict[str, Callable] = {"iot": parse_reading, "complaints": parse_complaint, "datacenter": parse_power_sample}
BATCH_FIELD = {"iot": "readings", "complaints": "complaints", "datacenter": "samples"}


@dataclass(frozen=True)
class Rejected:
    """An entry that broke the contract, with why."""

    kind: str
    entry_id: bytes
    fields: Fields
    code: str
    reason: str


@dataclass
class ParsedRead:
    """One read's entries: the good ones as a batch, the bad ones as rejections, every id to acknowledge."""

    batch: Batch
    rejected: list[Rejected] = field(default_factory=list)
    ids: dict[str, list[bytes]] = field(default_factory=dict)


def parse_entries(
    entries: Mapping[str, list[Entry]],
    ctx: ParseContext,
    *,
    redelivered: bool,
    unwanted: Mapping[str, Callable[[Fields | FlatFields], bool]] | None = None,
) -> ParsedRead:
    """Parse every entry of a read, keyed by event kind ('iot', 'complaints', 'datacenter').

    ``unwanted``: per kind, entries the caller has no use for; they are only acknowledged, never parsed."""
    read = ParsedRead(batch=Batch(redelivered=redelivered))
    for kind, kind_entries in entries.items():
        parse = PARSERS[kind]
        good = getattr(read.batch, BATCH_FIELD[kind])
        ids = read.ids.setdefault(kind, [])
        skip = (unwanted or {}).get(kind)
        for entry_id, fields in kind_entries:
            ids.append(entry_id)
            if not fields or (skip is not None and skip(fields)):
                # A pending entry whose data was trimmed away, or one of no use: only to acknowledge.
                continue
            try:
                good.append(parse(fields, entry_id, ctx))
            except InvalidEvent as bad:
                read.rejected.append(Rejected(kind, entry_id, as_mapping(fields), bad.code, bad.message))
            except Exception as bug:  # a parser bug must not stop the pipeline or lose the entry
                log.exception("parser failed on %s entry %s", kind, entry_id)
                reason = f"parser error: {bug!r}"[:500]
                read.rejected.append(Rejected(kind, entry_id, as_mapping(fields), "internal", reason))
    return read
