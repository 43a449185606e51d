"""The alert lifecycle and silences, as pure rules the store applies inside its transactions.

    (condition fires) ─▶ firing ─acknowledge─▶ acknowledged
                           │                       │
                           └──── resolve ──────────┴─▶ resolved      (condition clears, or a person resolves)

Notes and assignment are allowed in every status and change nothing else. An alert silenced when it fired is
recorded with every action, and stays quiet for its whole life (receivers never heard of it, so an
"acknowledged" or "resolved" about it would be noise); a silence starting later mutes the changes made while
it is active.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Action(StrEnum):
    FIRED = "fired"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    NOTE = "note"
    ASSIGNED = "assigned"


class InvalidTransition(ValueError):
    """An action that the alert's status does not allow (acknowledging a resolved alert, …)."""


# status before → action → status after; missing pairs are refused
TRANSITIONS: dict[Status, dict[Action, Status]] = {
    Status.FIRING: {Action.ACKNOWLEDGED: Status.ACKNOWLEDGED, Action.RESOLVED: Status.RESOLVED},
    Status.ACKNOWLEDGED: {Action.RESOLVED: Status.RESOLVED},
    Status.RESOLVED: {},
}
# Which actions receivers hear about, as Standard Webhooks event types.
EVENT_TYPES = {Action.FIRED: "alert.firing", Action.ACKNOWLEDGED: "alert.acknowledged",
               Action.RESOLVED: "alert.resolved"}  # fmt: skip


def next_status(current: Status | str, action: Action | str) -> Status:
    """The status after ``action``; raises ``InvalidTransition`` with the reason when it is not allowed."""
    current, action = Status(current), Action(action)
    if action in (Action.NOTE, Action.ASSIGNED):
        return current
    after = TRANSITIONS[current].get(action)
    if after is None:
        refused = InvalidTransition(f"cannot mark a {current.value} alert {action.value}")
        refused.status, refused.action = current.value, action.value  # for a message in the officer's language
        raise refused
    return after


def alert_labels(rule_id: str, severity: str, subject: str, labels: Mapping[str, str]) -> dict[str, str]:
    """The labels silences match on: the rule's own, plus rule, severity and subject."""
    return {**labels, "rule": rule_id, "severity": severity, "subject": subject}


def silence_matches(matchers: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A silence applies when every one of its matchers equals the alert's label (exact match)."""
    return bool(matchers) and all(labels.get(name) == value for name, value in matchers.items())


def is_active(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """A silence is in force from its start (inclusive) to its end (exclusive)."""
    return starts_at <= now < ends_at


def notifies(action: Action | str, silenced_at_fire: bool, silenced_now: bool) -> bool:
    """Whether a change is sent to receivers."""
    return Action(action) in EVENT_TYPES and not silenced_at_fire and not silenced_now
