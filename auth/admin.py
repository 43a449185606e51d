"""What an admin does to accounts and display tokens, from the admin page or `ioc users` / `ioc displays`.

Each command goes through ``auth.command.audited``: the role is checked, the arguments are checked, the change
and its audit record commit together. A password or token made here is returned once and stored only hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from auth import passwords, store
from auth.command import Connect, Refused, audited, require
from auth.principal import Principal
from auth.roles import PERSON_ROLES, Permission, Role
from auth.sessions import clean_username
from auth.tokens import DISPLAY_PREFIX, new_token, token_digest
from i18n.current import N_, _
from i18n.languages import LANGUAGES, parse_language

MAX_FULL_NAME = 80
MAX_DISPLAY_NAME = 64
INTERVAL_S = (5, 3600)


@dataclass(frozen=True)
class Issued:
    """A secret made by a command, shown to the admin once: a password, or a display token."""

    name: str
    secret: str


class AccessCommands:
    """Accounts and display tokens; ``wall_views`` are the view names a display's playlist may hold."""

    def __init__(self, connect: Connect, wall_views: Sequence[str]) -> None:
        self._connect = connect
        self.wall_views = tuple(wall_views)

    # --- reads ----------------------------------------------------------------------------------------------------
    def users(self, actor: Principal | None) -> list[dict]:
        require(actor, Permission.MANAGE_USERS, N_("see the accounts"))
        with self._connect() as conn:
            return store.users(conn)

    def displays(self, actor: Principal | None) -> list[dict]:
        require(actor, Permission.MANAGE_DISPLAYS, N_("see the display tokens"))
        with self._connect() as conn:
            return store.displays(conn)

    # --- accounts -------------------------------------------------------------------------------------------------
    def add_user(
        self, actor: Principal | None, username: str, role: str, full_name: str = "", password: str | None = None
    ) -> Issued:
        """A new account; with no password given, a random one is made and returned once."""
        name = _username(username)

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_USERS, N_("add accounts"))
            secret = password if password is not None else passwords.generate_password()
            _check_password(secret, name)
            if store.user_by_name(conn, name) is not None:
                raise Refused(_("There is already an account named {name}.").format(name=name))
            store.add_user(conn, name, _full_name(full_name), _role(role).value, passwords.hash_password(secret))
            return Issued(name, secret), {"role": role, "full_name": _full_name(full_name)}

        return audited(self._connect, actor, "user.add", f"user:{name}", work)

    def set_role(self, actor: Principal | None, username: str, role: str) -> dict:
        """Change an account's role; it takes effect on that user's next request."""
        new = _role(role)

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_USERS, N_("change roles"))
            user = _existing(conn, username)
            if user["role"] == Role.ADMIN and new is not Role.ADMIN:
                _keep_an_admin(conn, user)
            return store.update_user(conn, user["id"], role=new.value), {"from": user["role"], "to": new.value}

        return audited(self._connect, actor, "user.role", f"user:{_username(username)}", work)

    def disable(self, actor: Principal | None, username: str) -> dict:
        """No more sign-ins, and every open session of the account ends now."""

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_USERS, N_("disable accounts"))
            user = _existing(conn, username)
            if user["disabled_at"] is not None:
                raise Refused(_("{user} is already disabled.").format(user=user["username"]))
            if user["role"] == Role.ADMIN:
                _keep_an_admin(conn, user)
            ended = store.end_sessions_of_user(conn, user["id"])
            disabled = conn.execute("SELECT now()").fetchone()[0]
            return store.update_user(conn, user["id"], disabled_at=disabled), {"sessions_ended": ended}

        return audited(self._connect, actor, "user.disable", f"user:{_username(username)}", work)

    def enable(self, actor: Principal | None, username: str) -> dict:
        """A disabled account may sign in again (and its lockout is cleared)."""

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_USERS, N_("enable accounts"))
            user = _existing(conn, username)
            if user["disabled_at"] is None:
                raise Refused(_("{user} is not disabled.").format(user=user["username"]))
            return store.update_user(conn, user["id"], disabled_at=None, failed_signins=0, locked_until=None), {}

        return audited(self._connect, actor, "user.enable", f"user:{_username(username)}", work)

    def reset_password(self, actor: Principal | None, username: str, password: str | None = None) -> Issued:
        """A new password (random when none is given, returned once); clears a lockout, ends open sessions."""
        name = _username(username)

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_USERS, N_("reset passwords"))
            user = _existing(conn, name)
            secret = password if password is not None else passwords.generate_password()
            _check_password(secret, name)
            store.update_user(
                conn, user["id"], password_hash=passwords.hash_password(secret), failed_signins=0, locked_until=None
            )
            return Issued(name, secret), {"sessions_ended": store.end_sessions_of_user(conn, user["id"])}

        return audited(self._connect, actor, "user.reset_password", f"user:{name}", work)

    # --- display tokens -------------------------------------------------------------------------------------------
    def issue_display(
        self, actor: Principal | None, name: str, playlist: Sequence[str], interval_s: int, language: str = ""
    ) -> Issued:
        """A token for one wall screen, bound to a playlist, seconds per view and a language (empty: the city's
        default); returned once."""
        label = " ".join((name or "").split())
        views = [v for v in dict.fromkeys(playlist) if v]
        shown_in = parse_language(language) if language else None

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_DISPLAYS, N_("issue display tokens"))
            if not 1 <= len(label) <= MAX_DISPLAY_NAME:
                raise Refused(
                    _("A display needs a name of 1 to {count} characters (e.g. lobby-wall-1).").format(
                        count=MAX_DISPLAY_NAME
                    )
                )
            if not views or any(v not in self.wall_views for v in views):
                raise Refused(_("A playlist holds one or more of: {views}.").format(views=", ".join(self.wall_views)))
            if not INTERVAL_S[0] <= interval_s <= INTERVAL_S[1]:
                raise Refused(_("Seconds per view are {low} to {high}.").format(low=INTERVAL_S[0], high=INTERVAL_S[1]))
            if language and shown_in is None:
                raise Refused(
                    _("A display's language is one of: {languages} (empty: the city's default).").format(
                        languages=", ".join(LANGUAGES)
                    )
                )
            if store.display_by_name(conn, label) is not None:
                raise Refused(
                    _("There is already a display named {name}; revoke it or choose another name.").format(name=label)
                )
            token = new_token(DISPLAY_PREFIX)
            store.add_display(conn, label, token_digest(token), views, interval_s, actor.name, shown_in)
            details = {"playlist": views, "interval_s": interval_s, "language": shown_in or "default"}
            return Issued(label, token), details

        return audited(self._connect, actor, "display.issue", f"display:{label}", work)

    def revoke_display(self, actor: Principal | None, name: str) -> dict:
        """Revoke a display's token: its wall stops within ``IOC_DISPLAY_RECHECK_S`` and says so."""

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_DISPLAYS, N_("revoke display tokens"))
            display = store.display_by_name(conn, name)
            if display is None:
                raise Refused(_("No display named {name}.").format(name=name))
            revoked = store.revoke_display(conn, display["id"], actor.name)
            if revoked is None:
                raise Refused(_("{name} was already revoked.").format(name=name))
            return revoked, {}

        return audited(self._connect, actor, "display.revoke", f"display:{name}", work)


def _username(raw: str) -> str:
    name = clean_username(raw)
    if name is None:
        raise Refused(
            _(
                "A user name is 1 to 128 characters: lower-case letters, digits and . _ @ + - "
                "(starting with a letter or digit)."
            )
        )
    return name


def _full_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if len(name) > MAX_FULL_NAME:
        raise Refused(_("A full name has at most {count} characters.").format(count=MAX_FULL_NAME))
    return name


def _role(raw: str) -> Role:
    try:
        role = Role(raw)
    except ValueError:
        role = None
    if role not in PERSON_ROLES:
        raise Refused(_("A role is one of: {roles}.").format(roles=", ".join(PERSON_ROLES)))
    return role


def _check_password(password: str, username: str) -> None:
    try:
        passwords.check_new_password(password, username)
    except passwords.WeakPassword as weak:
        raise Refused(_("Password refused: {reason}.").format(reason=weak)) from None


def _existing(conn: psycopg.Connection, username: str) -> dict:
    user = store.user_by_name(conn, _username(username), lock=True)
    if user is None:
        raise Refused(_("No account named {name}.").format(name=username))
    return user


def _keep_an_admin(conn: psycopg.Connection, leaving: dict) -> None:
    """Refuse to demote or disable the last enabled admin: nobody could manage the accounts afterwards."""
    # FOR UPDATE: two admins demoting each other at once must not both pass this check.
    admins = conn.execute(
        "SELECT id FROM auth_users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE"
    ).fetchall()
    if not [row for row in admins if row[0] != leaving["id"]]:
        raise Refused(_("{user} is the last enabled admin; make another admin first.").format(user=leaving["username"]))
