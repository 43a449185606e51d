"""A replay of dead letters as a person's command: who may, the replay, and its record in the audit trail.

The CLI (``ioc deadletter replay``, as ``cli:<login>``) and the pipeline page's Replay button (as the signed-in
admin, from their address) both come here, so both are checked and recorded the same way. The replay changes
Redis, not the database, so it cannot share a transaction with its record: the record is written right after, and
a replay that Redis stopped half-way is recorded as ``failed`` with what it had done by then. The database
connection is opened first, so a replay never starts when its record could not be written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager

import psycopg
import redis

from auth import audit
from auth.command import Refused, require
from auth.principal import Principal
from auth.roles import Permission
from i18n.mark import N_
from streams.replay import DeadLetters, ReplayBusy, ReplayReport, Selection

log = logging.getLogger(__name__)
ACTION = "deadletter.replay"
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]


class DeadLetterCommands:
    """Replays of one deployment's dead letters, checked and audited."""

    def __init__(self, letters: DeadLetters, connect: Connect) -> None:
        self.letters, self.connect = letters, connect

    def replay(self, actor: Principal | None, selection: Selection, *, dry_run: bool = False,
               limit: int | None = None) -> ReplayReport:  # fmt: skip
        """Replay the letters of ``selection`` as ``actor``; ``Refused`` (recorded) when they may not or it fails.

        A dry run changes nothing and is not recorded."""
        target = f"deadletters:{selection.code or '*'}"
        report = ReplayReport(dry_run=dry_run)
        try:
            with self.connect() as conn:
                return self._replay(conn, actor, selection, target, limit, report)
        except psycopg.OperationalError as down:
            if report.replayed and not dry_run:
                log.error("%s by %s done but not recorded (%s): %s", ACTION, actor.name if actor else "?", down,
                          report.summary())  # fmt: skip
                raise Refused(f"The replay was done ({report.summary()}), but the audit trail could not record it: "
                              "the database does not answer.") from down  # fmt: skip
            raise Refused(
                "The database does not answer, so a replay could not be recorded: nothing was replayed."
            ) from down

    def _replay(self, conn: psycopg.Connection, actor: Principal | None, selection: Selection, target: str,
                limit: int | None, report: ReplayReport) -> ReplayReport:  # fmt: skip
        try:
            require(actor, Permission.REPLAY_DEAD_LETTERS, N_("replay dead letters"))
        except Refused as refused:
            _record(conn, actor, target, refused.outcome, {"reason": str(refused), **_asked(selection)})
            raise
        try:
            self.letters.replay(selection, dry_run=report.dry_run, limit=limit, report=report)
        except (ReplayBusy, redis.RedisError) as failed:
            if not report.dry_run:
                _record(conn, actor, target, "failed", {**_asked(selection), **_done(report),
                                                        "reason": str(failed)[:300]})  # fmt: skip
            raise Refused(f"The replay stopped: {str(failed)[:300]} ({report.summary()}).") from failed
        if not report.dry_run:
            _record(conn, actor, target, "ok", {**_asked(selection), **_done(report)})
        log.info("%s by %s (%s): %s", ACTION, actor.name if actor else "?", selection.describe(), report.summary())
        return report


def _asked(selection: Selection) -> dict[str, object]:
    return {"code": selection.code, "since_ms": selection.since_ms}


def _done(report: ReplayReport) -> dict[str, object]:
    return {"replayed": report.replayed, "by_stream": report.by_stream, "refused": report.refused_count,
            "examined": report.examined, "more": report.more}  # fmt: skip


def _record(conn: psycopg.Connection, actor: Principal | None, target: str, outcome: str, details: dict) -> None:
    with conn.transaction():
        audit.record(conn, actor, ACTION, target, outcome, details)
