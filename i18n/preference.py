"""A person's own language: stored on their account, checked and audited like every other change."""

from __future__ import annotations

import psycopg

from auth import store
from auth.command import Connect, Refused, audited, require
from auth.principal import Principal
from auth.roles import Permission
from i18n.current import N_, _
from i18n.languages import parse_language


def set_own_language(connect: Connect, actor: Principal | None, wanted: str) -> str | None:
    """Store ``wanted`` (a language code, or empty for "the city's default") as ``actor``'s language.

    None when done; otherwise why not, in words for the person (a display or the CLI has no language of its own
    to store, an unknown code is refused)."""
    language = parse_language(wanted) if wanted else None
    if wanted and language is None:
        return _("Unknown language.")

    def work(conn: psycopg.Connection):
        require(actor, Permission.VIEW_DASHBOARDS, N_("choose a language"))
        if actor.user_id is None:
            raise Refused(_("Only a person's account has a language of its own."), "denied")
        store.update_user(conn, actor.user_id, language=language)
        return None, {"language": language or "default"}

    try:
        audited(connect, actor, "user.language", f"user:{actor.name if actor else ''}", work)
    except Refused as refused:
        return str(refused)
    return None
