"""Who is acting: the one place every state-changing callback asks, server-side, before it changes anything.

Today an officer is known by name: from a trusted header set by the city's SSO proxy
(``IOC_TRUSTED_USER_HEADER``, e.g. ``X-Forwarded-User``) when one is configured, otherwise from the name the
officer typed once in the alert console (kept in the browser). When accounts and roles arrive (viewer,
operator, admin), this is where they are checked: ``actor_for`` will look the officer up and refuse an action
their role does not allow, so no callback needs to change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MAX_NAME = 80


class NotAllowed(PermissionError):
    """The action is refused; the message says why, in words for the officer."""


@dataclass(frozen=True)
class Actor:
    """The officer an action is recorded against, and how we know who they are."""

    name: str
    source: str  # "header" (the SSO proxy vouches for it) or "typed" (the officer said so)


def clean_name(raw: str | None) -> str:
    """A name as recorded: trimmed, inner whitespace collapsed, at most ``MAX_NAME`` characters."""
    return " ".join((raw or "").split())[:MAX_NAME]


def actor_for(headers: Mapping[str, str], typed_name: str | None, trusted_header: str, action: str) -> Actor:
    """The acting officer for ``action``, or ``NotAllowed`` with the reason.

    With a trusted header configured, only the header counts: a typed name must not override who the proxy
    says is signed in. Roles will be checked here (``action`` names what is being attempted).
    """
    if trusted_header:
        name = clean_name(headers.get(trusted_header))
        if not name:
            raise NotAllowed(f"Not signed in: the sign-in proxy sent no {trusted_header} header, so {action} is "
                             "refused.")  # fmt: skip
        return Actor(name, "header")
    name = clean_name(typed_name)
    if not name:
        raise NotAllowed(f"Type your name under 'Officer on duty' first: every {action} is recorded with who did it.")
    return Actor(name, "typed")
