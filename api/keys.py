"""API keys: what an admin issues (`ioc apikeys`, the admin page), and the table they live in.

A key is ``ioca_`` + 256 random bits (``auth.tokens``); only its SHA-256 digest is stored. A fast digest is right
for a random token (an argon2 hash is for passwords, which people choose and can be guessed): nobody can search
2^256 inputs, and checking a key on every request must cost microseconds, not the 50 ms of a password hash.
Each command goes through ``auth.command.audited``: the admin's role is checked on the server, and the change and
its audit record commit together. The token is returned once and can never be shown again.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg.rows import dict_row

from api.scopes import SCOPES
from auth.admin import Issued
from auth.command import Connect, Refused, audited, require
from auth.principal import Principal
from auth.roles import Permission
from auth.tokens import new_token, token_digest
from i18n.current import N_, _

KEY_PREFIX = "ioca_"
MAX_KEY_NAME = 64
PER_MINUTE = (1, 100_000)
LIST_LIMIT = 1000
COLUMNS = "id, name, scopes, requests_per_minute, created_by, created_at, last_used_at, revoked_at, revoked_by"


def key_digest(token: str | None) -> bytes | None:
    """The stored form of a presented key; None for a value that cannot be one of ours."""
    if not token or not token.startswith(KEY_PREFIX):
        return None
    return token_digest(token)


def key_by_digest(conn: psycopg.Connection, digest: bytes) -> dict | None:
    """The key with this digest, revoked or not."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(f"SELECT {COLUMNS} FROM api_keys WHERE token_sha256 = %s", (digest,)).fetchone()


def touch(conn: psycopg.Connection, key_id: int) -> None:
    """Record that the key was used now."""
    conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %s", (key_id,))


def clean_scopes(scopes: Sequence[str]) -> list[str]:
    """The scopes asked for, each once, in the documented order; ``Refused`` when one is unknown or none given."""
    wanted = {s.strip() for s in scopes if s and s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown or not wanted:
        known = ", ".join(SCOPES)
        if unknown:
            raise Refused(_("Scopes are one or more of: {known} (not {unknown}).").format(
                known=known, unknown=", ".join(unknown)))
        raise Refused(_("Scopes are one or more of: {known}.").format(known=known))
    return [s for s in SCOPES if s in wanted]


class ApiKeyCommands:
    """Issue, list and revoke API keys; every call is checked against ``actor`` and audited."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect

    def keys(self, actor: Principal | None) -> list[dict]:
        """Every key ever issued (never its token), newest first."""
        require(actor, Permission.MANAGE_API_KEYS, N_("see the API keys"))
        with self._connect() as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(f"SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC LIMIT %s",
                               (LIST_LIMIT,)).fetchall()  # fmt: skip

    def issue(self, actor: Principal | None, name: str, scopes: Sequence[str],
              per_minute: int | None = None) -> Issued:  # fmt: skip
        """A new key for ``scopes`` (``per_minute``: its own rate limit, None: IOC_API_REQUESTS_PER_MINUTE)."""
        label = " ".join((name or "").split())

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_API_KEYS, N_("issue API keys"))
            if not 1 <= len(label) <= MAX_KEY_NAME:
                raise Refused(_("An API key needs a name of 1 to {most} characters (e.g. bus-app-2026).").format(
                    most=MAX_KEY_NAME))
            granted = clean_scopes(scopes)
            if per_minute is not None and not PER_MINUTE[0] <= per_minute <= PER_MINUTE[1]:
                raise Refused(_("Requests per minute are {least} to {most}.").format(
                    least=PER_MINUTE[0], most=f"{PER_MINUTE[1]:,}"))
            if conn.execute("SELECT 1 FROM api_keys WHERE name = %s", (label,)).fetchone():
                raise Refused(_("There is already an API key named {name}; choose another name.").format(name=label))
            token = new_token(KEY_PREFIX)
            conn.execute("INSERT INTO api_keys (name, token_sha256, scopes, requests_per_minute, created_by)"
                         " VALUES (%s, %s, %s, %s, %s)",
                         (label, token_digest(token), granted, per_minute, actor.name))  # fmt: skip
            return Issued(label, token), {"scopes": granted, "requests_per_minute": per_minute}

        return audited(self._connect, actor, "apikey.issue", f"apikey:{label}", work)

    def revoke(self, actor: Principal | None, name: str) -> dict:
        """Revoke a key: its next request is refused (401)."""

        def work(conn: psycopg.Connection):
            require(actor, Permission.MANAGE_API_KEYS, N_("revoke API keys"))
            with conn.cursor(row_factory=dict_row) as cur:
                key = cur.execute(f"SELECT {COLUMNS} FROM api_keys WHERE name = %s FOR UPDATE", (name,)).fetchone()
                if key is None:
                    raise Refused(_("No API key named {name}.").format(name=name))
                if key["revoked_at"] is not None:
                    raise Refused(_("{name} was already revoked.").format(name=name))
                revoked = cur.execute(f"UPDATE api_keys SET revoked_at = now(), revoked_by = %s WHERE id = %s"
                                      f" RETURNING {COLUMNS}", (actor.name, key["id"])).fetchone()  # fmt: skip
            return revoked, {}

        return audited(self._connect, actor, "apikey.revoke", f"apikey:{name[:MAX_KEY_NAME]}", work)
