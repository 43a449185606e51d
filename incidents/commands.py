"""Officers' actions on incidents: one command path, ``IncidentCommands.perform(actor, action, args)``.

Like ``alerts.commands``: checked on the server whatever the client sent (the role, then the arguments, then
the incident's state, ``incidents.lifecycle``); the change, its timeline entry, its webhook (on a close) and its
audit record commit in one transaction (``auth.command.audited``); a refusal changes nothing and is recorded.
The actor is the signed-in principal, never a name the client typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from alerts.store import NOTIFY
from auth.command import Connect, Refused, audited, require
from auth.principal import Principal
from auth.roles import Permission
from i18n.current import N_, _
from i18n.terms import term
from incidents.lifecycle import IncidentRefused, OfficerAction, State
from incidents.store import IncidentNotFound, IncidentRecorder

MAX_ID = 2**63 - 1
WORDS = {
    OfficerAction.TAKE_OWNERSHIP: N_("take ownership of incidents"),
    OfficerAction.SET_STATE: N_("change the state of incidents"),
    OfficerAction.NOTE: N_("add notes to incidents"),
}


@dataclass(frozen=True)
class IncidentDone:
    """What an action did: the incident after it."""

    action: OfficerAction
    actor: str
    incident: dict


class IncidentCommands:
    """The officers' command path on incidents; ``recorder`` writes (``incidents.store.IncidentRecorder``)."""

    def __init__(self, connect: Connect, recorder: Callable[[], IncidentRecorder], note_max_chars: int) -> None:
        self._connect, self._recorder, self.note_max_chars = connect, recorder, note_max_chars

    def perform(self, actor: Principal | None, action: str, args: Mapping[str, Any]) -> IncidentDone:
        """Check and carry out ``action`` for ``actor``; ``Refused`` (recorded) says why not."""
        try:
            act = OfficerAction(action)
        except ValueError:
            raise Refused(_("Unknown action {action}.").format(action=repr(str(action)[:40]))) from None
        target = f"incident:{str(args.get('incident_id'))[:20]}"

        def work(conn: psycopg.Connection) -> tuple[IncidentDone, Mapping[str, Any]]:
            who = require(actor, Permission.ACT_ON_INCIDENTS, WORDS[act])
            incident_id = _id(args.get("incident_id"))
            note = _note(args.get("note"), self.note_max_chars)
            state = _state(args.get("state")) if act is OfficerAction.SET_STATE else None
            if act is OfficerAction.NOTE and not note:
                raise Refused(_("Type the note first."))
            try:
                with conn.cursor(row_factory=dict_row) as cur:
                    incident, queued = self._recorder().act(cur, incident_id, act, who.name, state, note or None)
                    if queued:
                        cur.execute(NOTIFY)
            except IncidentNotFound:
                raise Refused(_("Refused: there is no incident #{id}.").format(id=incident_id)) from None
            except IncidentRefused as refused:
                raise Refused(_("Refused: a {state} incident cannot be {action}.").format(
                    state=term("incident_state", refused.state), action=_describe(act, state))) from None
            details = {k: v for k, v in (("state", state), ("note", note)) if v}
            return IncidentDone(act, who.name, incident), details

        return audited(self._connect, actor, f"incident.{act.value}", target, work)


def _describe(act: OfficerAction, state: str | None) -> str:
    if act is OfficerAction.TAKE_OWNERSHIP:
        return _("taken over")
    return _("set to {state}").format(state=term("incident_state", state or ""))


def _id(raw: object) -> int:
    try:
        value = int(str(raw)) if isinstance(raw, int | str) and not isinstance(raw, bool) else None
    except ValueError:
        value = None
    if value is None or not 0 < value <= MAX_ID:
        raise Refused(_("Select an incident first.") if raw is None else _("That is not an incident number."))
    return value


def _state(raw: object) -> str:
    if raw not in (State.MONITORING.value, State.CLOSED.value, State.OPEN.value):
        raise Refused(_("Choose a state: open, monitoring or closed."))
    return str(raw)


def _note(raw: object, max_chars: int) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise Refused(_("{what} is text.").format(what=_("A note")))
    text = raw.strip()
    if len(text) > max_chars:
        raise Refused(_("{what} has at most {limit} characters (this one {count}).").format(
            what=_("A note"), limit=f"{max_chars:,}", count=f"{len(text):,}"))
    return text
