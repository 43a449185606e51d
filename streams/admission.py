"""The cap on new identities per stream and minute: a producer inventing device ids cannot grow the city's state.

An identity (a sensor's ``device_id``, a data-centre ``site``, a complaint's ``request_id``) is *known* when the
state tables hold it (``sensor_latest``, ``datacenter_latest``, ``complaints``). Entries of unknown identities
are admitted up to a number of new identities per stream per minute, counted in ONE Redis counter per stream
and minute that every ingest worker shares (``ADMIT``: an atomic grant of "as many as are left"). Past the cap
an entry goes to the dead letter as ``too_many_new``: nothing is lost (it can be replayed once the cause is
understood) and the city's current state, the live snapshot and the evaluator's memory stay bounded.

Two workers that meet the same new device in the same minute both count it: the cap errs on the safe side.
The pure part (``split_new``) decides; ``NewIdCap`` holds the small bounded cache of identities seen known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter

import redis

TOO_MANY_NEW = "too_many_new"
# What identifies the thing an entry is about, per stream kind (the field of the parsed record).
IDENTITY = {"iot": "device_id", "datacenter": "site", "complaints": "request_id"}
NOUN = {"iot": "device ids", "datacenter": "sites", "complaints": "request ids"}
# Identities remembered as known per worker; past it the cache starts over (it only saves a database look-up).
KNOWN_CACHE_LIMIT = 100_000
# Grant min(asked, cap - used) from this minute's counter; the key outlives its minute only briefly.
ADMIT = """
local used = tonumber(redis.call('get', KEYS[1]) or '0')
local grant = math.min(tonumber(ARGV[1]), math.max(0, tonumber(ARGV[2]) - used))
if grant > 0 then
  redis.call('incrby', KEYS[1], grant)
  redis.call('expire', KEYS[1], 120)
end
return grant
"""


@dataclass(frozen=True)
class Caps:
    """New identities accepted per minute, per stream kind."""

    per_minute: Mapping[str, int]

    def reason(self, kind: str) -> str:
        """The dead letter's words for an entry past the cap."""
        return (f"more than {self.per_minute[kind]} new {NOUN[kind]} this minute on this stream: "
                f"not stored (IOC_INGEST_NEW_* settings, docs/EVENTS.md)")  # fmt: skip


def split_new(records: Iterable, kind: str, known: set[str], granted: int) -> tuple[list, list, list[str]]:
    """(kept, over_cap, admitted): records of known identities are kept, then those of the first ``granted``
    new identities in order of appearance; the rest are over the cap. Pure."""
    key = attrgetter(IDENTITY[kind])
    admitted: dict[str, None] = {}
    kept, over = [], []
    for record in records:
        ident = key(record)
        if ident in known or ident in admitted:
            kept.append(record)
        elif len(admitted) < granted:
            admitted[ident] = None
            kept.append(record)
        else:
            over.append(record)
    return kept, over, list(admitted)


def new_identities(records: Iterable, kind: str, known: set[str]) -> list[str]:
    """Distinct identities of ``records`` not in ``known``, in order of appearance."""
    key = attrgetter(IDENTITY[kind])
    return list(dict.fromkeys(i for i in map(key, records) if i not in known))


def counter_key(prefix: str, stream: str, minute: int) -> str:
    """The Redis counter of new identities admitted on ``stream`` during epoch minute ``minute``."""
    return f"{prefix}:new:{stream}:{minute}"


class NewIdCap:
    """One worker's view of the shared cap: a bounded cache of known identities, and the Redis grant."""

    def __init__(self, caps: Caps, prefix: str, clock: Callable[[], float]) -> None:
        self.caps = caps
        self.prefix = prefix
        self.clock = clock  # wall-clock seconds: the minute window is shared by workers on other hosts
        self._known: dict[str, set[str]] = {kind: set() for kind in IDENTITY}

    def unknown(self, kind: str, records: Iterable) -> list[str]:
        """Identities of ``records`` this worker has not seen known yet (to ask the database about)."""
        return new_identities(records, kind, self._known[kind])

    def remember(self, kind: str, idents: Iterable[str]) -> None:
        """``idents`` are in the state tables (looked up, or just admitted)."""
        known = self._known[kind]
        for ident in idents:
            if len(known) >= KNOWN_CACHE_LIMIT:
                known.clear()  # a bound, not an LRU: a miss costs one indexed look-up, never a wrong answer
            known.add(ident)

    def forget_all(self) -> None:
        """After devices were forgotten in the database, this cache must not call them known."""
        for known in self._known.values():
            known.clear()

    def grant(self, client: redis.Redis, kind: str, stream: str, asked: int) -> int:
        """How many of ``asked`` new identities this minute's shared counter still admits."""
        if asked <= 0:
            return 0
        key = counter_key(self.prefix, stream, int(self.clock() // 60))
        return int(client.eval(ADMIT, 1, key, asked, self.caps.per_minute[kind]))

    def known_set(self, kind: str) -> set[str]:
        """The cache itself (read-only use)."""
        return self._known[kind]
