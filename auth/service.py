"""Signing in and out, knowing who holds a session, and turning a display token into a wall's session.

The I/O shell around the pure rules of ``auth.sessions``, ``auth.lockout`` and ``auth.passwords``: each method
is one database transaction (with its audit record), on a connection from ``connect``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from auth import audit, passwords, store
from auth.lockout import FailureCount
from auth.principal import Principal
from auth.ratelimit import AttemptLimiter
from auth.sessions import AccessPolicy, Refusal, SessionCheck, clean_username, judge_session, user_principal
from auth.tokens import new_token, token_digest
from i18n.current import N_

log = logging.getLogger(__name__)
DISPLAY_CACHE_MAX = 10_000
EXPIRED_KEPT = timedelta(days=1)  # ended sessions stay a day, then are deleted (the audit keeps the story)


@dataclass(frozen=True)
class SignIn:
    """A new session's token and its principal, or why sign-in was refused (``refusal`` in words)."""

    token: str | None
    principal: Principal | None
    refusal: str | None = None
    rate_limited: bool = False


WRONG = N_("Wrong user name or password, or the account is locked for a while after repeated failures.")
TOO_MANY = N_("Too many sign-in attempts from this address; wait a minute and try again.")
INVALID_DISPLAY_LINK = N_("This display link is not valid: it was revoked, or it is mistyped.")


class AccessService:
    """Sessions over the database; ``connect`` yields a connection (a pool's ``connection``)."""

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[psycopg.Connection]],
        limiter: AttemptLimiter,
        policy: AccessPolicy,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect, self.limiter, self.policy = connect, limiter, policy
        self._now, self._monotonic = now, monotonic
        # Displays poll every second and there may be a thousand: their sessions are re-read from the database at
        # most every ``display_recheck_s`` (a revoked token stops its wall within that), people's on every request.
        self._displays: OrderedDict[bytes, tuple[float, SessionCheck]] = OrderedDict()
        self._displays_lock = threading.Lock()
        self._recheck_lock = threading.Lock()  # one batch re-check at a time per process
        self._last_cleanup = float("-inf")

    # --- people ---------------------------------------------------------------------------------------------------
    def sign_in(self, typed_name: str, password: str, address: str) -> SignIn:
        """Check a user name and password; on success a new session. Every outcome is audited."""
        username = clean_username(typed_name)
        if not self.limiter.allow(address):
            return SignIn(None, None, TOO_MANY, rate_limited=True)
        now = self._now()
        with self._connect() as conn, conn.transaction():
            user = store.user_by_name(conn, username, lock=True) if username else None
            if (
                user is None
                or user["disabled_at"] is not None
                or FailureCount(user["failed_signins"], user["locked_until"]).locked(now)
            ):
                passwords.verify_password(None, password)  # the same time as a wrong password
                reason = "unknown_user" if user is None else "disabled" if user["disabled_at"] else "locked"
                audit.record(
                    conn,
                    None,
                    "signin",
                    f"user:{username or '?'}",
                    "denied" if user else "failed",
                    {"reason": reason},
                    name=(username or typed_name or "?")[:64],
                    address=address,
                )
                return SignIn(None, None, WRONG)
            if not passwords.verify_password(user["password_hash"], password):
                count = FailureCount(user["failed_signins"], user["locked_until"]).after_failure(
                    self.policy.lockout, now
                )
                store.record_failure(conn, user["id"], count)
                audit.record(
                    conn,
                    None,
                    "signin",
                    f"user:{username}",
                    "failed",
                    {"reason": "wrong_password", "locked_until": count.locked_until},
                    name=username,
                    address=address,
                )
                return SignIn(None, None, WRONG)
            store.record_signin(conn, user["id"], now)
            if passwords.needs_rehash(user["password_hash"]):
                store.update_user(conn, user["id"], password_hash=passwords.hash_password(password))
            token = new_token()
            session_id = store.create_session(
                conn, token_digest(token), now + self.policy.session_lifetime, address, user_id=user["id"]
            )
            principal = user_principal(user, address, "session", session_id).principal
            audit.record(conn, principal, "signin", f"user:{username}", "ok", {"session": session_id})
            self._cleanup(conn, now)
        return SignIn(token, principal)

    def sign_out(self, token: str | None, principal: Principal | None) -> None:
        """End this session (a no-op when there is none)."""
        digest = token_digest(token or "")
        if digest is None:
            return
        with self._connect() as conn, conn.transaction():
            if store.end_session(conn, digest) is not None and principal is not None:
                audit.record(conn, principal, "signout", f"user:{principal.name}")
        with self._displays_lock:
            self._displays.pop(digest, None)

    def check_session(self, token: str | None, address: str) -> SessionCheck:
        """Who holds this session cookie at ``address``, or why nobody does.

        Raises ``psycopg.Error`` when the database cannot say, except for a display it has let in before: a wall
        keeps showing the city through a database outage (its data comes from Redis) and is re-checked after.
        """
        digest = token_digest(token or "")
        if digest is None:
            return SessionCheck(None, Refusal.SIGNED_OUT)
        checked_at, cached = self._cached_display(digest)
        if cached is not None:
            if self._monotonic() - checked_at >= self.policy.display_recheck_s:
                cached = self._recheck_displays(digest)
            return SessionCheck(cached.principal.at(address)) if cached.principal else cached
        with self._connect() as conn:
            check = judge_session(store.session(conn, digest), self._now(), address)
        if check.principal is not None and check.principal.is_display:
            self._remember_display(digest, check)
        return check

    def _recheck_displays(self, digest: bytes) -> SessionCheck:
        """Re-check every display this process serves that is half-way to its re-check, in one query.

        A thousand walls then cost one query per process every ``display_recheck_s / 2``, not one per wall; a
        refused one is remembered as refused for as long.
        """
        with self._recheck_lock:
            checked_at, cached = self._cached_display(digest)
            if cached is not None and self._monotonic() - checked_at < self.policy.display_recheck_s:
                return cached  # another thread has just re-checked it
            with self._displays_lock:
                half = self._monotonic() - self.policy.display_recheck_s / 2
                due = [d for d, (at, _) in self._displays.items() if at <= half or d == digest]
            try:
                with self._connect() as conn:
                    rows = store.sessions(conn, due)
            except psycopg.Error:
                log.warning("database unreachable: %d wall displays stay on until it answers", len(due))
                return cached or SessionCheck(None, Refusal.SIGNED_OUT)
            now = self._now()
            for each in due:
                check = judge_session(rows.get(each), now, "")
                # A refused wall is remembered too: its page keeps asking every second until someone looks.
                self._remember_display(each, check)
                if each == digest:
                    mine = check
            return mine

    def _remember_display(self, digest: bytes, check: SessionCheck) -> None:
        with self._displays_lock:
            self._displays[digest] = (self._monotonic(), check)
            self._displays.move_to_end(digest)
            while len(self._displays) > DISPLAY_CACHE_MAX:
                self._displays.popitem(last=False)

    def _cached_display(self, digest: bytes) -> tuple[float, SessionCheck | None]:
        """When this display session was last let in by the database, and as whom (None: never, here)."""
        with self._displays_lock:
            return self._displays.get(digest, (float("-inf"), None))

    def proxy_user(self, header_value: str | None, address: str) -> SessionCheck:
        """The account the SSO proxy names (created on first sight if the policy says so)."""
        username = clean_username(header_value)
        if username is None:
            return SessionCheck(None, Refusal.UNKNOWN_USER)
        with self._connect() as conn:
            user = store.user_by_name(conn, username)
            if user is None and self.policy.sso_new_user_role is not None:
                with conn.transaction():
                    user = store.user_by_name(conn, username, lock=True) or store.add_user(
                        conn, username, "", self.policy.sso_new_user_role.value, None, origin="sso"
                    )
                    audit.record(
                        conn,
                        None,
                        "user.add",
                        f"user:{username}",
                        "ok",
                        {"role": user["role"], "origin": "sso"},
                        name="sso-proxy",
                        address=address,
                    )
        if user is None:
            return SessionCheck(None, Refusal.UNKNOWN_USER)
        return user_principal(user, address, "proxy")

    # --- displays -------------------------------------------------------------------------------------------------
    def exchange_display_token(self, token: str | None, address: str) -> SignIn:
        """A new display session for a valid display token; audited either way."""
        if not self.limiter.allow(address):
            return SignIn(None, None, TOO_MANY, rate_limited=True)
        digest = token_digest(token or "")
        now = self._now()
        with self._connect() as conn, conn.transaction():
            display = store.display_by_token(conn, digest) if digest else None
            if display is None or display["revoked_at"] is not None:
                audit.record(
                    conn,
                    None,
                    "display.exchange",
                    f"display:{display['name']}" if display else "",
                    "denied" if display else "failed",
                    {"reason": "revoked" if display else "unknown_token"},
                    name="display",
                    address=address,
                )
                return SignIn(None, None, INVALID_DISPLAY_LINK)
            session_token = new_token()
            expires = now + self.policy.display_session_lifetime
            session_id = store.create_session(
                conn, token_digest(session_token), expires, address, display_id=display["id"]
            )
            store.touch_display(conn, display["id"])
            row = {
                "session_id": session_id,
                "expires_at": expires,
                "ended_at": None,
                "display_id": display["id"],
                "display_name": display["name"],
                "playlist": display["playlist"],
                "interval_s": display["interval_s"],
                "revoked_at": None,
                "language": display.get("language"),
            }
            principal = judge_session(row, now, address).principal
            audit.record(
                conn, principal, "display.exchange", f"display:{display['name']}", "ok", {"session": session_id}
            )
        return SignIn(session_token, principal)

    def _cleanup(self, conn: psycopg.Connection, now: datetime) -> None:
        if self._monotonic() - self._last_cleanup < 3600:
            return
        self._last_cleanup = self._monotonic()
        removed = store.delete_expired_sessions(conn, now - EXPIRED_KEPT)
        if removed:
            log.info("forgot %d sessions that ended more than a day ago", removed)
