"""Who is asking: the signed-in person or display behind one request, as the server knows it.

A principal is built on the server from a session cookie (or a trusted proxy's header), never from anything the
client says about itself. Commands record ``actor`` and ``address`` from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from auth.roles import Permission, Role, may


@dataclass(frozen=True)
class WallBinding:
    """What a display token shows: its playlist and seconds per view."""

    playlist: tuple[str, ...]
    interval_s: int


@dataclass(frozen=True)
class Principal:
    """A signed-in person (``user_id``) or a wall display (``display_id``), and where the request came from."""

    name: str  # a person's username, or "display:<name>"
    role: Role
    address: str = ""
    full_name: str = ""
    user_id: int | None = None
    display_id: int | None = None
    session_id: int | None = None
    via: str = "session"  # "session", "proxy" (the SSO header) or "cli"
    wall: WallBinding | None = field(default=None)
    language: str | None = None  # the person's stored choice, or the display token's (i18n/choice.py)

    def may(self, permission: Permission) -> bool:
        return may(self.role, permission)

    @property
    def is_display(self) -> bool:
        return self.role is Role.DISPLAY

    @property
    def shown_name(self) -> str:
        """How the header names them: full name when known."""
        return self.full_name or self.name

    def at(self, address: str) -> Principal:
        """The same principal, seen at ``address`` (each request has its own)."""
        return replace(self, address=address)


def cli_principal(os_user: str) -> Principal:
    """Whoever runs ``ioc users`` / ``ioc displays`` on the server: an admin by virtue of shell access."""
    return Principal(f"cli:{os_user}", Role.ADMIN, "local", via="cli")
