"""Whether a stored session still lets its holder in, and as whom (pure: rows in, a verdict out)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from auth.lockout import LockoutPolicy
from auth.principal import Principal, WallBinding
from auth.roles import Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,127}$")


class Refusal(StrEnum):
    """Why a request is not let in; the browser is told which, so it can say so in words."""

    SIGNED_OUT = "signed_out"  # no session, or it ended or expired: sign in again
    DISABLED = "account_disabled"
    DISPLAY_REVOKED = "display_revoked"  # an admin revoked this wall's token
    UNKNOWN_USER = "unknown_user"  # the SSO proxy named someone this IOC does not know (and may not create)


@dataclass(frozen=True)
class SessionCheck:
    """A principal, or the reason there is none."""

    principal: Principal | None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class AccessPolicy:
    """How long sessions last and when an account locks (from ``Settings``)."""

    session_lifetime: timedelta
    display_session_lifetime: timedelta
    display_recheck_s: float
    lockout: LockoutPolicy
    sso_new_user_role: Role | None  # None: a name the proxy sends that has no account is refused


def clean_username(raw: str | None) -> str | None:
    """A user name as stored (trimmed, lower case), or None if it cannot be one."""
    name = (raw or "").strip().lower()
    return name if USERNAME.fullmatch(name) else None


def judge_session(row: Mapping | None, now: datetime, address: str) -> SessionCheck:
    """The principal a ``auth.store.session`` row stands for at ``now``, or why it no longer lets anyone in."""
    if row is None:
        return SessionCheck(None, Refusal.SIGNED_OUT)
    if row["display_id"] is not None:
        if row["revoked_at"] is not None:
            return SessionCheck(None, Refusal.DISPLAY_REVOKED)
        if row["ended_at"] is not None or row["expires_at"] <= now:
            return SessionCheck(None, Refusal.SIGNED_OUT)
        wall = WallBinding(tuple(row["playlist"]), int(row["interval_s"]))
        return SessionCheck(
            Principal(
                f"display:{row['display_name']}",
                Role.DISPLAY,
                address,
                display_id=row["display_id"],
                session_id=row["session_id"],
                wall=wall,
                language=row.get("language"),
            )
        )
    if row["ended_at"] is not None or row["expires_at"] <= now:
        return SessionCheck(None, Refusal.SIGNED_OUT)
    return user_principal({**row, "id": row["user_id"]}, address, "session", row["session_id"])


def user_principal(user: Mapping, address: str, via: str, session_id: int | None = None) -> SessionCheck:
    """The principal of an account (``auth.store`` user row) just signed in or vouched for by the SSO proxy."""
    if user["disabled_at"] is not None:
        return SessionCheck(None, Refusal.DISABLED)
    return SessionCheck(
        Principal(
            user["username"],
            Role(user["role"]),
            address,
            user["full_name"],
            user_id=user["id"],
            session_id=session_id,
            via=via,
            language=user.get("language"),
        )
    )
