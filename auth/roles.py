"""Who may do what: the one table of roles and permissions every check on the server reads.

A person has one role: viewer, operator or admin. A wall display is not a person: its session has the role
``display``, which may only watch the wall. Nothing else in the code base decides what a role allows; callbacks,
routes and commands name the permission they need and ask ``may``.
"""

from __future__ import annotations

from enum import StrEnum

from i18n.mark import N_


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    DISPLAY = "display"  # a wall screen's session, never a person's


PERSON_ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)


class Permission(StrEnum):
    WATCH_WALL = "watch_wall"  # the wall and the live data it shows
    VIEW_DASHBOARDS = "view_dashboards"  # every page but the admin ones
    READ_COMPLAINT_TEXT = "read_complaint_text"  # citizens' own words, possibly personal data
    ACT_ON_ALERTS = "act_on_alerts"  # acknowledge, resolve, note, assign
    SILENCE_ALERTS = "silence_alerts"  # create and expire silences
    ACT_ON_INCIDENTS = "act_on_incidents"  # take ownership, set the state, add notes
    MANAGE_USERS = "manage_users"
    MANAGE_DISPLAYS = "manage_displays"
    MANAGE_API_KEYS = "manage_api_keys"  # issue and revoke keys of the open-data API (/api/v1)
    VIEW_RECEIVERS = "view_receivers"  # webhook receivers and their health (configured in the environment)
    READ_AUDIT = "read_audit"
    REPLAY_DEAD_LETTERS = "replay_dead_letters"  # put rejected entries back on their streams after a fix


_VIEWER = frozenset({Permission.WATCH_WALL, Permission.VIEW_DASHBOARDS})
_OPERATOR = _VIEWER | {Permission.READ_COMPLAINT_TEXT, Permission.ACT_ON_ALERTS, Permission.SILENCE_ALERTS,
                       Permission.ACT_ON_INCIDENTS}  # fmt: skip
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.DISPLAY: frozenset({Permission.WATCH_WALL}),
    Role.VIEWER: _VIEWER,
    Role.OPERATOR: _OPERATOR,
    Role.ADMIN: frozenset(Permission),
}

# What a role is for, in a line each (docs/SECURITY.md, the admin page).
# Marked for the catalogue; the admin page shows them in the reader's language.
DESCRIPTIONS: dict[Role, str] = {
    Role.VIEWER: N_("sees every dashboard and the wall; changes nothing; no complaint text"),
    Role.OPERATOR: N_("a viewer who also acknowledges, resolves, notes, assigns and silences alerts, and reads "
                      "complaint descriptions"),
    Role.ADMIN: N_("an operator who also manages accounts, display tokens and API keys, sees the webhook receivers, "
                   "reads the audit trail and replays dead letters"),
    Role.DISPLAY: N_("a wall screen's session from a display token: the wall only"),
}  # fmt: skip


def may(role: Role | str | None, permission: Permission) -> bool:
    """Whether ``role`` (None: nobody signed in) holds ``permission``."""
    if role is None:
        return False
    try:
        return permission in GRANTS[Role(role)]
    except ValueError:
        return False
