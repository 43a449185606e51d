"""What the parsers remember between entries, within a budget of entries and of bytes.

Readings repeat: a sensor sends the same id, kind, metric, unit and position every time, and a producer the same
field names in the same order. Validating those once and remembering the answer is most of why the fast path is
fast (docs/BENCHMARKS.md). But every key comes from a producer, so the memory is bounded twice:

* by **entries** (``max_entries``), and
* by **bytes** (``max_bytes``), counted approximately: the caller says how many bytes of raw text a key and its
  answer hold, and each remembered answer adds ``ANSWER_OVERHEAD`` for the Python objects around that text.

Reaching either budget **clears** everything (a bound, not an LRU): clearing is amortised O(1) per entry and
needs no bookkeeping on the hot path, and the keys a city repeats return at once. Callers put in only keys they
have validated or size-checked (the fast path puts nothing from an entry over its budget), so one hostile entry
can neither pin much memory nor evict much of what the city repeats.

Two tables share the budget: ``layouts`` (a tuple of field names → how to pick the fields out) and ``answers``
(raw values → validated values). They are apart so that a producer cannot make a tuple of field names collide
with a tuple of values.
"""

from __future__ import annotations

from collections.abc import Hashable

# Measured (tracemalloc) for a sensor's device part: the 7 raw values as bytes objects, the key and answer
# tuples, the decoded id and the two floats, and the dict slot take ~680 bytes beyond ~55 bytes of raw text.
ANSWER_OVERHEAD = 700


class ParseCache:
    """The parser's memory: two tables (``layouts``, ``answers``) under one budget of entries and bytes.

    Lookups are plain dict lookups (``cache.answers.get(key)``); only ``remember_*`` counts and clears."""

    __slots__ = ("max_entries", "max_bytes", "layouts", "answers", "bytes", "clears")

    def __init__(self, max_entries: int = 500_000, max_bytes: int = 128 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < ANSWER_OVERHEAD:
            raise ValueError(f"a parse cache needs at least 1 entry and {ANSWER_OVERHEAD} bytes")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.layouts: dict[Hashable, object] = {}
        self.answers: dict[Hashable, object] = {}
        self.bytes = 0  # approximate, see ANSWER_OVERHEAD
        self.clears = 0  # how often a budget was reached (a producer inventing keys shows here)

    def remember_layout(self, names: Hashable, pick: object, text_bytes: int) -> None:
        """Remember how to read an entry with these field names; ``text_bytes``: the names' total length."""
        self._make_room(text_bytes)
        self.layouts[names] = pick

    def remember(self, key: Hashable, answer: object, text_bytes: int) -> None:
        """Remember a validated answer; ``text_bytes``: the raw text in the key and the answer, about."""
        # At city scale nearly every reading is a new device: this runs per reading, so it is kept inline.
        size = text_bytes + ANSWER_OVERHEAD
        answers = self.answers
        if len(answers) + len(self.layouts) >= self.max_entries or self.bytes + size > self.max_bytes:
            self.clear()
            self.clears += 1
        self.bytes += size
        answers[key] = answer

    def __len__(self) -> int:
        return len(self.layouts) + len(self.answers)

    def clear(self) -> None:
        """Forget everything (the dicts stay the same objects, so bound ``get`` methods stay valid)."""
        self.layouts.clear()
        self.answers.clear()
        self.bytes = 0

    def _make_room(self, text_bytes: int) -> None:
        size = text_bytes + ANSWER_OVERHEAD
        if len(self.layouts) + len(self.answers) >= self.max_entries or self.bytes + size > self.max_bytes:
            self.clear()
            self.clears += 1
        self.bytes += size
