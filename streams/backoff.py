"""Exponential back-off with full jitter, for retrying the database or Redis; a store that reconnects with it."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S")


def delays(initial_s: float, maximum_s: float, rng: random.Random | None = None) -> Iterator[float]:
    """Endless delays: each a random share of a ceiling that doubles from ``initial_s`` up to ``maximum_s``."""
    rng = rng or random.Random()
    ceiling = initial_s
    while True:
        yield rng.uniform(ceiling / 2, ceiling)
        ceiling = min(ceiling * 2, maximum_s)


def call_with_backoff(action: Callable[[], T], errors: tuple[type[BaseException], ...], max_delay_s: float,
                      what: str) -> T:  # fmt: skip
    """``action()``, retried after each of ``errors`` with back-off, for as long as it takes (outages end)."""
    waits = delays(0.1, max_delay_s)
    while True:
        try:
            return action()
        except errors as exc:
            pause = next(waits)
            log.warning("%s unavailable (%s); retrying in %.1f s", what, exc, pause)
            time.sleep(pause)


class Reconnecting(Generic[S]):
    """A store (a database connection and what wraps it) opened on first use and again after an outage.

    ``run(action)`` waits out outages (``errors``) with back-off for as long as they last: the broken store is
    closed, ``while_waiting`` runs before each pause (ingest keeps its entries its own meanwhile), and the action
    is tried again on a new one. The pause is ``sleep``, so a test can record it instead of waiting.
    """

    def __init__(self, open_store: Callable[[], S], close_store: Callable[[S], None],
                 errors: tuple[type[BaseException], ...], max_delay_s: float, what: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self._open, self._close = open_store, close_store
        self.errors, self.max_delay_s, self.what, self.sleep = errors, max_delay_s, what, sleep
        self.store: S | None = None

    def run(self, action: Callable[[S], T], while_waiting: Callable[[], object] | None = None) -> T:
        """``action(store)``, retried on a new store after each outage."""
        waits = delays(0.2, self.max_delay_s)
        while True:
            try:
                if self.store is None:
                    self.store = self._open()
                return action(self.store)
            except self.errors as exc:
                self.close()
                pause = next(waits)
                log.warning("%s unavailable (%s); retrying in %.1f s", self.what, str(exc).strip()[:200], pause)
                if while_waiting is not None:
                    while_waiting()
                self.sleep(pause)

    def once(self, action: Callable[[S], T]) -> T:
        """``action(store)`` once, for work that can wait for a later try: an outage closes the store (the next call
        opens another) and is raised to the caller."""
        try:
            if self.store is None:
                self.store = self._open()
            return action(self.store)
        except self.errors:
            self.close()
            raise

    def close(self) -> None:
        """Close the store, if one is open; the next ``run`` opens another."""
        store, self.store = self.store, None
        if store is not None:
            self._close(store)
