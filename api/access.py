"""Who may call the API: the key a request presents, its scopes, and its rate limit.

A key comes in a header only (``Authorization: Bearer …`` or ``X-API-Key``), never in the URL, where proxies and
browser histories would keep it. Each request checks the key in the database (a revoked key stops at once), then
counts it against the key's limit in Redis, so every dashboard process shares one count (``auth.ratelimit``).

Use is recorded in a bounded way, never one write per request: the key row's ``last_used_at`` at most once a
minute, and an ``api.use`` entry in the audit trail the first time a key is used in each clock hour (a Redis
``SET NX`` per key and minute / hour decides, so many processes still write once).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import redis

from api.keys import key_by_digest, key_digest, touch
from auth import audit
from auth.command import Connect
from auth.ratelimit import AttemptLimiter


@dataclass(frozen=True)
class Caller:
    """A request's valid key."""

    key_id: int
    name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: HTTP status, error code, message, and seconds to wait (429)."""

    status: int
    error: str
    message: str
    retry_after_s: int | None = None


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key in ``Authorization: Bearer …`` or else ``X-API-Key``."""
    auth = headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return headers.get("X-API-Key", "").strip() or None


MISSING = Refusal(401, "unauthorized", "An API key is needed: send it as `Authorization: Bearer <key>` or `X-API-Key`.")
UNKNOWN = Refusal(401, "unauthorized", "This API key is unknown or was revoked. Ask the city's IOC admins for a key.")


class ApiAccess:
    """Checks keys over ``connect`` (the database) and counts requests in ``client`` (Redis) under ``prefix``."""

    def __init__(self, connect: Connect, client: redis.Redis, prefix: str, default_per_minute: int,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self._connect, self._client, self._prefix = connect, client, prefix
        self.default_per_minute, self._clock = default_per_minute, clock

    def check(self, headers: Mapping[str, str], scope: str, path: str, address: str) -> Caller | Refusal:
        """The caller, or why not: 401 no or bad key, 429 over its limit, 403 the key lacks ``scope``."""
        token = presented_key(headers)
        if token is None:
            return MISSING
        digest = key_digest(token)
        if digest is None:
            return UNKNOWN
        with self._connect() as conn:
            key = key_by_digest(conn, digest)
        if key is None or key["revoked_at"] is not None:
            return UNKNOWN
        limit = key["requests_per_minute"] or self.default_per_minute
        limiter = AttemptLimiter(self._client, f"{self._prefix}:rate", limit, self._clock)
        if not limiter.allow(str(key["id"])):
            return Refusal(429, "rate_limited", f"This key may make {limit} requests a minute; wait and retry.",
                           limiter.retry_after_s())  # fmt: skip
        self._record_use(key, path, address)
        if scope not in key["scopes"]:
            return Refusal(403, "forbidden", f"This key may not read {scope}: ask for a key with the `{scope}` scope.")
        return Caller(key["id"], key["name"], frozenset(key["scopes"]))

    def _record_use(self, key: dict, path: str, address: str) -> None:
        now = self._clock()
        minute, hour = int(now // 60), int(now // 3600)
        with self._client.pipeline(transaction=False) as pipe:
            pipe.set(f"{self._prefix}:seen:{key['id']}:{minute}", 1, nx=True, ex=120)
            pipe.set(f"{self._prefix}:audited:{key['id']}:{hour}", 1, nx=True, ex=7200)
            first_in_minute, first_in_hour = pipe.execute()
        if not (first_in_minute or first_in_hour):
            return
        with self._connect() as conn, conn.transaction():
            touch(conn, key["id"])
            if first_in_hour:
                audit.record(conn, None, "api.use", f"apikey:{key['name']}", "ok", {"first_path": path[:200]},
                             name=f"apikey:{key['name']}", address=address)  # fmt: skip
