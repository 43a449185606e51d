"""An incident's states and what moves it between them (pure).

    open ──(all its alerts resolved, or an officer)──▶ monitoring ──(quiet period, or an officer)──▶ closed
     ▲                                                      │
     └────────────(a new member arrives, or an officer)─────┘

A closed incident stays closed: what happens later in the same place opens a new incident. Officers take
ownership, set the state and add notes; ``next_state`` is the server-side check of what they ask.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    OPEN = "open"
    MONITORING = "monitoring"
    CLOSED = "closed"


class Entry(StrEnum):
    """The kinds of timeline entry (``incident_entries.kind``)."""

    OPENED = "opened"  # the incident itself
    ALERT_FIRED = "alert_fired"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    ALERT_RESOLVED = "alert_resolved"
    COMPLAINT_OPENED = "complaint_opened"
    COMPLAINT_CLOSED = "complaint_closed"
    OWNER = "owner"  # an officer took ownership
    STATE = "state"  # the state changed (by an officer, or by the rules above)
    NOTE = "note"


class OfficerAction(StrEnum):
    TAKE_OWNERSHIP = "take_ownership"
    SET_STATE = "set_state"
    NOTE = "note"


class IncidentRefused(ValueError):
    """An officer's action the incident's state does not allow; ``state`` and ``action`` name it."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"a {state} incident cannot be {action}")
        self.state, self.action = state, action


# What an officer may set, from each state (closed is final).
OFFICER_MOVES: dict[State, frozenset[State]] = {
    State.OPEN: frozenset({State.MONITORING, State.CLOSED}),
    State.MONITORING: frozenset({State.OPEN, State.CLOSED}),
    State.CLOSED: frozenset(),
}


def next_state(current: State | str, action: OfficerAction | str, target: State | str | None = None) -> State:
    """The state after an officer's ``action``; raises ``IncidentRefused`` when the state does not allow it.

    Notes are allowed in every state (a closed incident may still be annotated); ownership only while the
    incident is not closed."""
    current, action = State(current), OfficerAction(action)
    if action is OfficerAction.NOTE:
        return current
    if action is OfficerAction.TAKE_OWNERSHIP:
        if current is State.CLOSED:
            raise IncidentRefused(current.value, "taken over")
        return current
    wanted = State(target) if target is not None else None
    if wanted is None or wanted not in OFFICER_MOVES[current]:
        raise IncidentRefused(current.value, f"set {wanted.value if wanted else '?'}")
    return wanted


def after_member(current: State | str) -> State:
    """A new member reopens a monitoring incident; an open one stays open."""
    return State.OPEN if State(current) in (State.OPEN, State.MONITORING) else State(current)


def after_alert_resolved(current: State | str, alerts_still_open: int) -> State:
    """When the last of its alerts resolves, an open incident goes to monitoring."""
    current = State(current)
    return State.MONITORING if current is State.OPEN and alerts_still_open == 0 else current


def after_quiet(current: State | str, alerts_still_open: int, quiet_since: float, now: float, quiet_s: float) -> State:
    """With nothing new for ``quiet_s`` (``quiet_since``: its latest member or state change, epoch seconds): a
    monitoring incident closes, and an open one whose alerts have all resolved (reopened by a complaint, say)
    goes to monitoring."""
    current = State(current)
    if now - quiet_since < quiet_s:
        return current
    if current is State.MONITORING:
        return State.CLOSED
    if current is State.OPEN and alerts_still_open == 0:
        return State.MONITORING
    return current
