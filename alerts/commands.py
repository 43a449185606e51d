"""Officers' actions on alerts and silences: one command path, ``AlertCommands.perform(actor, action, args)``.

Every action is checked here, on the server, whatever the client sent: the actor's role (``auth.roles``), then
the arguments against ``ActionLimits`` (a silence's length and start, a note's length, how many matchers), then
the alert's lifecycle (``alerts.state``). The change, its ``alert_events`` row, its webhook outbox rows and its
audit record commit in one transaction (``auth.command.audited``); a refusal changes nothing and is recorded.
The actor is always the signed-in principal, never a name the client typed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import psycopg

from alerts import console
from alerts.state import InvalidTransition
from alerts.store import AlertNotFound, AlertStore
from auth import store as accounts
from auth.command import Connect, Refused, audited, require
from auth.principal import Principal
from auth.roles import Permission
from i18n.current import N_, _
from i18n.terms import term

LABEL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
MAX_ID = 2**63 - 1


class AlertAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    NOTE = "note"
    ASSIGN = "assign"
    SILENCE = "silence"
    EXPIRE_SILENCE = "expire_silence"


PERMISSIONS: dict[AlertAction, Permission] = {
    AlertAction.ACKNOWLEDGE: Permission.ACT_ON_ALERTS,
    AlertAction.RESOLVE: Permission.ACT_ON_ALERTS,
    AlertAction.NOTE: Permission.ACT_ON_ALERTS,
    AlertAction.ASSIGN: Permission.ACT_ON_ALERTS,
    AlertAction.SILENCE: Permission.SILENCE_ALERTS,
    AlertAction.EXPIRE_SILENCE: Permission.SILENCE_ALERTS,
}
WORDS = {
    AlertAction.ACKNOWLEDGE: N_("acknowledge alerts"),
    AlertAction.RESOLVE: N_("resolve alerts"),
    AlertAction.NOTE: N_("add notes to alerts"),
    AlertAction.ASSIGN: N_("assign alerts"),
    AlertAction.SILENCE: N_("create silences"),
    AlertAction.EXPIRE_SILENCE: N_("expire silences"),
}


@dataclass(frozen=True)
class ActionLimits:
    """Server-side bounds on what an officer may ask (settings ``IOC_SILENCE_MAX_HOURS`` and friends)."""

    silence_max: timedelta = timedelta(days=7)
    silence_max_start_in: timedelta = timedelta(days=30)
    note_max_chars: int = 2000
    matchers_max: int = 10
    matcher_value_max_chars: int = 200


@dataclass(frozen=True)
class Done:
    """What an action did: the alert after it, or the silence it made or ended."""

    action: AlertAction
    actor: str
    alert: dict | None = None
    silence_id: int | None = None


class AlertCommands:
    """The officers' command path; ``make_store`` builds the lifecycle writer on a connection."""

    def __init__(
        self,
        connect: Connect,
        make_store: Callable[[psycopg.Connection], AlertStore],
        limits: ActionLimits,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._connect, self._make_store, self.limits, self._now = connect, make_store, limits, now

    def perform(self, actor: Principal | None, action: str, args: Mapping[str, Any]) -> Done:
        """Check and carry out ``action`` for ``actor``; ``Refused`` (recorded) says why not."""
        try:
            act = AlertAction(action)
        except ValueError:
            raise Refused(_("Unknown action {action}.").format(action=repr(str(action)[:40]))) from None
        target = _target(act, args)

        def work(conn: psycopg.Connection) -> tuple[Done, Mapping[str, Any]]:
            who = require(actor, PERMISSIONS[act], WORDS[act])
            if act is AlertAction.SILENCE:
                return self._silence(conn, who, args)
            if act is AlertAction.EXPIRE_SILENCE:
                silence_id = _id(args.get("silence_id"), "silence")
                if not console.expire_silence(conn, silence_id):
                    raise Refused(_("Silence #{id} had already ended.").format(id=silence_id))
                return Done(act, who.name, silence_id=silence_id), {}
            return self._on_alert(conn, who, act, args)

        return audited(self._connect, actor, f"alert.{act.value}", target, work)

    def _on_alert(
        self, conn: psycopg.Connection, who: Principal, act: AlertAction, args: Mapping[str, Any]
    ) -> tuple[Done, Mapping[str, Any]]:
        alert_id = _id(args.get("alert_id"), "alert")
        note = _text(args.get("note"), self.limits.note_max_chars, N_("A note"))
        store = self._make_store(conn)
        try:
            if act is AlertAction.ACKNOWLEDGE:
                alert = store.acknowledge(alert_id, who.name, note or None)
            elif act is AlertAction.RESOLVE:
                alert = store.resolve(alert_id, who.name, note or None)
            elif act is AlertAction.NOTE:
                if not note:
                    raise Refused(_("Type the note first."))
                alert = store.add_note(alert_id, who.name, note)
            else:
                assignee = _assignee(conn, args.get("assignee"))
                alert = store.assign(alert_id, who.name, assignee)
                return Done(act, who.name, alert), {"assignee": assignee}
        except InvalidTransition as refused:
            raise Refused(
                _("Refused: a {status} alert cannot be marked {action}.").format(
                    status=term("alert_state", refused.status), action=term("alert_state", refused.action)
                )
            ) from None
        except AlertNotFound:
            raise Refused(_("Refused: there is no alert #{id}.").format(id=alert_id)) from None
        return Done(act, who.name, alert), ({"note": note} if note else {})

    def _silence(self, conn: psycopg.Connection, who: Principal, args: Mapping[str, Any]):
        matchers = check_matchers(args.get("matchers"), self.limits)
        starts_in = _finite(args.get("starts_in_minutes", 0), N_("The start"))
        hours = _finite(args.get("hours"), N_("The length"))
        if starts_in < 0:
            raise Refused(_("A silence cannot start in the past."))
        if starts_in * 60 > self.limits.silence_max_start_in.total_seconds():
            raise Refused(
                _("A silence starts within {days} days from now.").format(
                    days=f"{self.limits.silence_max_start_in.total_seconds() / 86400:g}"
                )
            )
        if not 0 < hours * 3600 <= self.limits.silence_max.total_seconds():
            raise Refused(
                _("A silence lasts more than 0 and at most {hours} hours.").format(
                    hours=f"{self.limits.silence_max.total_seconds() / 3600:g}"
                )
            )
        comment = _text(args.get("comment"), 500, N_("A comment"))
        if not comment:
            raise Refused(_("Say why (maintenance, known issue…): every silence carries a comment."))
        starts = self._now() + timedelta(minutes=starts_in)
        ends = starts + timedelta(hours=hours)
        silence_id = console.create_silence(conn, matchers, starts, ends, who.name, comment)
        return (
            Done(AlertAction.SILENCE, who.name, silence_id=silence_id),
            {"silence_id": silence_id, "matchers": matchers, "starts_at": starts, "ends_at": ends},
        )


def parse_matchers(text: str | None) -> dict[str, str]:
    """``team=water, subject=wl-0042`` → ``{"team": "water", "subject": "wl-0042"}``; ``Refused`` says what is wrong."""
    matchers: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise Refused(
                _("'{part}' is not name=value (e.g. team=water, subject=wl-0042).").format(part=part.strip()[:60])
            )
        matchers[name.strip()] = value.strip()
    return matchers


def check_matchers(raw: object, limits: ActionLimits) -> dict[str, str]:
    """A silence's matchers from the form's text or a mapping, within the limits."""
    matchers = parse_matchers(raw) if raw is None or isinstance(raw, str) else raw
    if not isinstance(matchers, Mapping) or not matchers:
        raise Refused(_("A silence needs at least one label matcher, e.g. team=water."))
    if len(matchers) > limits.matchers_max:
        raise Refused(_("A silence has at most {count} matchers.").format(count=limits.matchers_max))
    for name, value in matchers.items():
        if not isinstance(name, str) or not LABEL_NAME.fullmatch(name):
            raise Refused(
                _("'{name}' is not a label name (lower-case letters, digits and _).").format(name=str(name)[:60])
            )
        if not isinstance(value, str) or not 0 < len(value) <= limits.matcher_value_max_chars:
            raise Refused(
                _("The value of {name} has 1 to {count} characters.").format(
                    name=name, count=limits.matcher_value_max_chars
                )
            )
    return dict(matchers)


def _target(act: AlertAction, args: Mapping[str, Any]) -> str:
    if act is AlertAction.SILENCE:
        return "silence:new"
    key, kind = ("silence_id", "silence") if act is AlertAction.EXPIRE_SILENCE else ("alert_id", "alert")
    return f"{kind}:{str(args.get(key))[:20]}"


def _id(raw: object, what: str) -> int:
    try:
        value = int(str(raw)) if isinstance(raw, int | str) else None
    except ValueError:
        value = None
    if value is None or not 0 < value <= MAX_ID:
        if raw is None:
            raise Refused(_("Select an alert first.") if what == "alert" else _("Select a silence first."))
        raise Refused(_("That is not an alert number.") if what == "alert" else _("That is not a silence number."))
    return value


def _text(raw: object, max_chars: int, what: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise Refused(_("{what} is text.").format(what=_(what)))
    text = raw.strip()
    if len(text) > max_chars:
        raise Refused(
            _("{what} has at most {limit} characters (this one {count}).").format(
                what=_(what), limit=f"{max_chars:,}", count=f"{len(text):,}"
            )
        )
    return text


def _finite(raw: object, what: str) -> float:
    try:
        value = float(raw) if isinstance(raw, int | float | str) and not isinstance(raw, bool) else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Refused(_("{what} must be a number.").format(what=_(what)))
    return value


def _assignee(conn: psycopg.Connection, raw: object) -> str | None:
    """An enabled operator or admin, or None (nobody)."""
    if raw in (None, ""):
        return None
    if not isinstance(raw, str) or raw not in {u["username"] for u in accounts.active_officers(conn)}:
        raise Refused(_("Assign to an enabled operator or admin (or to nobody)."))
    return raw


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:g} days"
