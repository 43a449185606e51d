"""The one path every state change by a person takes: check the role, check the arguments, change, record.

``audited`` runs a command's work in one transaction with its audit record; a ``Refused`` command changes
nothing, and its refusal is recorded in a transaction of its own (a refusal is worth knowing about too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import psycopg

from auth import audit
from auth.principal import Principal
from auth.roles import Permission
from i18n.current import _

T = TypeVar("T")
Connect = Callable[[], AbstractContextManager[psycopg.Connection]]


class Refused(Exception):
    """A command not carried out; the message says why, in words for the person who asked."""

    def __init__(self, message: str, outcome: str = "failed") -> None:
        super().__init__(message)
        self.outcome = outcome  # "denied": the role may not; "failed": the arguments or the state say no


def require(actor: Principal | None, permission: Permission, what: str) -> Principal:
    """``actor`` if their role holds ``permission``; otherwise ``Refused`` (denied), in the words of the request's
    language (``what`` is a msgid marked with ``N_``)."""
    if actor is None:
        raise Refused(_("Sign in to {what}.").format(what=_(what)), "denied")
    if not actor.may(permission):
        raise Refused(_("Your role ({role}) may not {what}.").format(role=actor.role, what=_(what)), "denied")
    return actor


def audited(
    connect: Connect,
    actor: Principal | None,
    action: str,
    target: str,
    work: Callable[[psycopg.Connection], tuple[T, Mapping[str, Any]]],
) -> T:
    """Run ``work`` (returning its result and the audit details) in one transaction with its audit record."""
    with connect() as conn:
        try:
            with conn.transaction():
                result, details = work(conn)
                audit.record(conn, actor, action, target, "ok", details)
            return result
        except Refused as refused:
            if actor is not None:  # nobody signed in never gets this far past the gate; nothing to record then
                with conn.transaction():
                    audit.record(conn, actor, action, target, refused.outcome, {"reason": str(refused)})
            raise
