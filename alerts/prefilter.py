"""Which IoT entries the evaluator may acknowledge without parsing them: those no rule could accept (pure).

The evaluator reads every reading of the city; with the shipped rules most are of kinds and metrics no rule
watches, and parsing them was most of its cost per reading (docs/BENCHMARKS.md, alerts). A rule on the IoT
stream accepts a reading only if its metric is the rule's ``metric`` (or one its ``match.metric`` lists) and
its kind one its ``match.kind`` lists; an entry whose raw ``kind`` and ``metric`` are plain identifiers that
no rule could accept is skipped. Anything else, a missing field, odd spacing, other bytes, is parsed as
before, so skipping never changes a verdict; entries the evaluator skips are still stored by ingest, which
also dead-letters the bad ones.

What it remembers is bounded like the parser's memory (a ``ParseCache``): a decision only for a kind and metric
that are plain identifiers (at most 64 bytes each), a layout only for an entry whose field names are within
``LAYOUT_MAX_FIELDS`` and ``LAYOUT_MAX_BYTES``; anything else is looked at afresh, which is cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from alerts.rules import Rule
from streams.fields import Fields, FlatFields
from streams.parse_cache import ParseCache

PLAIN = re.compile(rb"[a-z][a-z0-9_]{0,63}")  # what the parser's identifier() accepts, as raw bytes
# The contract's budgets by default (IOC_ENTRY_MAX_FIELDS, and well within IOC_ENTRY_MAX_BYTES): a layout
# larger than this is not one a producer repeats.
LAYOUT_MAX_FIELDS = 64
LAYOUT_MAX_BYTES = 4096
# A city has dozens of kinds and metrics, and producers a handful of layouts.
CACHE_ENTRIES = 10_000
CACHE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Wants:
    """One rule's necessary condition on a reading: its metric among ``metrics``, its kind among ``kinds``
    (None: any)."""

    metrics: frozenset[bytes] | None
    kinds: frozenset[bytes] | None

    def admits(self, kind: bytes, metric: bytes) -> bool:
        return (self.metrics is None or metric in self.metrics) and (self.kinds is None or kind in self.kinds)


@dataclass
class ReadingFilter:
    """``unwanted(fields)``: an IoT entry no rule could accept (decisions remembered per kind and metric)."""

    wants: tuple[Wants, ...]
    cache: ParseCache = field(default_factory=lambda: ParseCache(CACHE_ENTRIES, CACHE_BYTES), repr=False)

    def unwanted(self, fields: Fields | FlatFields) -> bool:
        kind, metric = _kind_and_metric(fields, self.cache)
        key = (kind, metric)
        decision = self.cache.answers.get(key)
        if decision is None:
            plain = (kind is not None and metric is not None and PLAIN.fullmatch(kind) is not None
                     and PLAIN.fullmatch(metric) is not None)  # fmt: skip
            decision = plain and not any(w.admits(kind, metric) for w in self.wants)
            if plain:  # only validated words are remembered: at most 128 bytes of key
                self.cache.remember(key, decision, len(kind) + len(metric))
        return decision


def reading_filter(rules: Iterable[Rule]) -> ReadingFilter | None:
    """The filter for these rules, or None when every reading may matter (a rule on the IoT stream that names
    neither a metric nor kinds, such as "no data at all on the stream")."""
    wants = []
    for rule in rules:
        if rule.source != "iot":
            continue
        metrics = {rule.metric} if rule.metric is not None else rule.match.get("metric")
        kinds = rule.match.get("kind")
        if metrics is None and kinds is None:
            return None
        wants.append(Wants(_encoded(metrics), _encoded(kinds)))
    return ReadingFilter(tuple(wants))


def _encoded(values: Iterable[str] | None) -> frozenset[bytes] | None:
    return None if values is None else frozenset(v.encode() for v in values)


def _kind_and_metric(fields: Fields | FlatFields, cache: ParseCache) -> tuple[bytes | None, bytes | None]:
    """The raw ``kind`` and ``metric`` values (the last of a repeated name, as in Redis and ``as_mapping``)."""
    if not isinstance(fields, list):
        return fields.get(b"kind"), fields.get(b"metric")
    small = len(fields) <= 2 * LAYOUT_MAX_FIELDS
    names = tuple(fields[::2]) if small else None
    at = cache.layouts.get(names) if small else None
    if at is None:
        # Later names overwrite earlier ones; a name without a value (never sent by Redis) has no position.
        position = {fields[i]: i + 1 for i in range(0, len(fields) - 1, 2)}
        at = (position.get(b"kind"), position.get(b"metric"))
        if small and (size := sum(map(len, names))) <= LAYOUT_MAX_BYTES:
            cache.remember_layout(names, at, size)
    kind_at, metric_at = at
    return (None if kind_at is None else fields[kind_at]), (None if metric_at is None else fields[metric_at])
