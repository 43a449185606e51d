"""Dead letters you can inspect and put back: ``ioc deadletter list | show | replay`` and the pipeline page.

A replay puts a letter's original fields back on the city stream they came from, so the ordinary ingest path
judges them again with all its checks. Then:

* an entry now accepted is stored under the id it first had (``dlq_replay_of``, see ``streams.fields.source_entry``),
  so replaying the same letter twice (a crash between the re-add and the delete, two admins at once) stores it
  once: readings are unique by device, metric and time, events and samples by that id and their time;
* an entry still bad goes back to the dead letter with its reason and ``dlq_replays`` one higher;
* the letter itself is deleted (``XDEL``) once, and only once, Redis has confirmed the re-add: nothing is lost.

A replay never loops: it takes only letters up to the last one on the stream when it started, so what its own
entries bring back to the dead letter waits for the next replay. It works in batches of ``BATCH`` letters, and
one replay at a time (a lock in Redis) per consumer group. Anything in a letter that the IOC would not have written
(an unknown source stream, a forged or missing ``dlq_*`` field, a letter larger than any the IOC writes, a letter
that lost fields to truncation) is refused with the reason, and left where it is.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis

from i18n.current import _
from streams.deadletter import BadLetter, Letter, read_letter, replay_fields

BATCH = 200  # letters read, re-added and deleted per round trip: each up to 64 KiB
LIST_SCAN_MAX = 20_000  # letters a listing looks through for its matches before it stops
LOCK_MS = 120_000  # a replay holds the lock this long past its last batch (a crashed one frees it by itself)
_DURATION = re.compile(r"([0-9]{1,6})\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ReplayBusy(RuntimeError):
    """Another replay of the same dead-letter stream is running."""


@dataclass(frozen=True)
class Selection:
    """Which letters: of one code (None: any), dead-lettered at or after ``since_ms`` (None: any time)."""

    code: str | None = None
    since_ms: int | None = None

    def matches(self, letter: Letter) -> bool:
        return self.code is None or letter.code == self.code

    @property
    def start(self) -> str:
        return "-" if self.since_ms is None else f"{self.since_ms}-0"

    def describe(self) -> str:
        since = "" if self.since_ms is None else f" since {_iso(self.since_ms)}"
        return f"code {self.code or 'any'}{since}"


@dataclass
class ReplayReport:
    """What a replay did (or, dry, would do)."""

    replayed: int = 0  # re-added on their streams (and their letters deleted)
    by_stream: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (letter id, why), at most ``REFUSED_KEPT``
    refused_count: int = 0
    examined: int = 0
    more: bool = False  # stopped at its limit with matching letters left
    dry_run: bool = False

    REFUSED_KEPT = 100

    def refuse(self, letter_id: str, why: str) -> None:
        self.refused_count += 1
        if len(self.refused) < self.REFUSED_KEPT:
            self.refused.append((letter_id, why))

    def summary(self) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        streams = ", ".join(f"{n:,} to {s}" for s, n in sorted(self.by_stream.items()))
        said = f"{verb} {self.replayed:,} of {self.examined:,} letters examined" + (f" ({streams})" if streams else "")
        if self.refused_count:
            said += f"; refused {self.refused_count:,} (left in the dead letter)"
        if self.more:
            said += "; more remain: run it again"
        return said


def refused_by_code(stats: Mapping[bytes, bytes], streams: Collection[str]) -> list[tuple[str, str, int]]:
    """(stream, code, count) from ingest's ``<stream>:rejected:<code>`` counters, most first (pure)."""
    rows = []
    for key, value in stats.items():
        stream, _, code = key.decode(errors="replace").rpartition(":rejected:")
        if stream in streams and code and value.isdigit():
            rows.append((stream, code, int(value)))
    return sorted(rows, key=lambda row: (-row[2], row[0], row[1]))


def parse_since(raw: str | None, now: datetime) -> int | None:
    """``--since``: an ISO 8601 time with an offset, or a duration back from ``now`` (``90s``, ``30m``, ``2h``,
    ``7d``), as epoch milliseconds; None for nothing. Raises ``ValueError`` with a message for anything else."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    duration = _DURATION.fullmatch(text)
    if duration:
        back = timedelta(seconds=int(duration[1]) * _UNITS[duration[2]])
        return int((now - back).timestamp() * 1000)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _("since {text}: an ISO time with an offset or a duration such as 30m, 2h, 7d").format(text=repr(text[:40]))
        ) from None
    if at.tzinfo is None:
        raise ValueError(_("since {text} has no UTC offset (add Z or +08:00)").format(text=repr(text[:40])))
    return max(0, int(at.timestamp() * 1000))


class DeadLetters:
    """The dead-letter stream of one deployment, read and replayed over ``client``."""

    def __init__(self, client: redis.Redis, stream: str, city_streams: Collection[str], lock_key: str,
                 stats_key: str = "", batch: int = BATCH) -> None:  # fmt: skip
        self.client, self.stream, self.lock_key, self.batch = client, stream, lock_key, batch
        self.stats_key = stats_key
        self.city_streams = frozenset(city_streams)

    # --- reading ---------------------------------------------------------------------------------------------
    def length(self) -> int:
        """Letters on the stream."""
        return int(self.client.xlen(self.stream))

    def refused_by_code(self) -> list[tuple[str, str, int]]:
        """(stream, code, entries) refused since ingest's counters began, from its stats hash."""
        return refused_by_code(self.client.hgetall(self.stats_key), self.city_streams) if self.stats_key else []

    def newest(self, selection: Selection, limit: int, scan_max: int = LIST_SCAN_MAX) -> list[Letter | BadLetterAt]:
        """Up to ``limit`` matching letters, newest first, looking through at most ``scan_max`` letters."""
        found: list[Letter | BadLetterAt] = []
        end, scanned = "+", 0
        while len(found) < limit and scanned < scan_max:
            chunk = self.client.xrevrange(self.stream, end, selection.start, count=min(self.batch, scan_max - scanned))
            if not chunk:
                break
            scanned += len(chunk)
            for letter_id, raw in chunk:
                letter = _read(letter_id, raw)
                if isinstance(letter, BadLetterAt) or selection.matches(letter):
                    found.append(letter)
                    if len(found) == limit:
                        break
            end = "(" + _text(chunk[-1][0])
        return found

    def show(self, letter_id: str) -> Letter | BadLetterAt | None:
        """One letter by its id (None: no such letter, or not an id)."""
        if not re.fullmatch(r"[0-9]{1,20}-[0-9]{1,20}", letter_id or ""):
            return None
        found = self.client.xrange(self.stream, letter_id, letter_id, count=1)
        return _read(*found[0]) if found else None

    def refusal(self, letter: Letter) -> str | None:
        """Why ``letter`` cannot be replayed, or None."""
        if letter.stream not in self.city_streams:
            return f"its stream {letter.stream[:80]!r} is not one of the city streams"
        if letter.truncated:
            return "the letter does not hold the whole entry (dlq_truncated): replaying it would store a cut entry"
        if not letter.fields:
            return "the letter holds none of the entry's fields"
        return None

    # --- replaying -------------------------------------------------------------------------------------------
    def replay(self, selection: Selection, *, dry_run: bool = False, limit: int | None = None,
               report: ReplayReport | None = None) -> ReplayReport:  # fmt: skip
        """Put the matching letters back on their streams (``dry_run``: only count them), at most ``limit``.

        ``report`` is filled as it goes, so a caller still knows what was done when Redis fails half-way."""
        report = report if report is not None else ReplayReport(dry_run=dry_run)
        last = self.client.xrevrange(self.stream, "+", "-", count=1)
        if not last:
            return report
        end = _text(last[0][0])  # nothing dead-lettered after this moment, by this replay or anyone, is taken
        with self._lock(dry_run):
            for chunk in self._chunks(selection.start, end):
                wanted = self._judge(chunk, selection, report, limit)
                if wanted and not dry_run:
                    self._put_back(wanted, report)
                elif wanted:
                    _count(report, wanted)
                if report.more:
                    break
                self._keep_lock(dry_run)
        return report

    def _chunks(self, start: str, end: str) -> Iterator[list]:
        while True:
            chunk = self.client.xrange(self.stream, start, end, count=self.batch)
            if not chunk:
                return
            yield chunk
            start = "(" + _text(chunk[-1][0])

    def _judge(self, chunk: list, selection: Selection, report: ReplayReport, limit: int | None) -> list[Letter]:
        wanted: list[Letter] = []
        for letter_id, raw in chunk:
            report.examined += 1
            letter = _read(letter_id, raw)
            if isinstance(letter, BadLetterAt):
                report.refuse(letter.letter_id, letter.why)
                continue
            if not selection.matches(letter):
                continue
            why = self.refusal(letter)
            if why:
                report.refuse(letter.letter_id, why)
            elif limit is not None and report.replayed + len(wanted) >= limit:
                report.more = True
                break
            else:
                wanted.append(letter)
        return wanted

    def _put_back(self, letters: list[Letter], report: ReplayReport) -> None:
        pipe = self.client.pipeline(transaction=False)
        for letter in letters:
            pipe.xadd(letter.stream, replay_fields(letter))
        added = pipe.execute(raise_on_error=False)
        done = [letter for letter, reply in zip(letters, added, strict=True) if not isinstance(reply, Exception)]
        for letter, reply in zip(letters, added, strict=True):
            if isinstance(reply, Exception):  # not re-added: the letter stays, to be replayed again
                report.refuse(letter.letter_id, f"Redis refused the re-add: {str(reply)[:200]}")
        if done:
            # Only now, with every re-add of ``done`` confirmed by Redis, do their letters go.
            self.client.xdel(self.stream, *(letter.letter_id for letter in done))
            _count(report, done)
        failed = len(letters) - len(done)
        if failed:
            raise redis.ResponseError(f"{failed} of {len(letters)} re-adds were refused; see the refusals")

    # --- one replay at a time ----------------------------------------------------------------------------------
    def _lock(self, dry_run: bool):
        return _NoLock() if dry_run else _Lock(self.client, self.lock_key)

    def _keep_lock(self, dry_run: bool) -> None:
        if not dry_run:
            self.client.pexpire(self.lock_key, LOCK_MS)


@dataclass(frozen=True)
class BadLetterAt:
    """A letter on the stream that the IOC would not have written, and why."""

    letter_id: str
    why: str
    size: int


def _read(letter_id: bytes, raw: Mapping[bytes, bytes]) -> Letter | BadLetterAt:
    try:
        return read_letter(letter_id, raw)
    except BadLetter as bad:
        return BadLetterAt(_text(letter_id), str(bad), sum(map(len, raw)) + sum(map(len, raw.values())))


def _count(report: ReplayReport, letters: list[Letter]) -> None:
    report.replayed += len(letters)
    for letter in letters:
        report.by_stream[letter.stream] = report.by_stream.get(letter.stream, 0) + 1


class _Lock:
    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client, self.key, self.token = client, key, secrets.token_hex(8).encode()

    def __enter__(self) -> None:
        if not self.client.set(self.key, self.token, nx=True, px=LOCK_MS):
            raise ReplayBusy("another replay of the dead letters is running; try again when it has finished")

    def __exit__(self, *_exc: object) -> None:
        if self.client.get(self.key) == self.token:
            self.client.delete(self.key)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_exc: object) -> None:
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
