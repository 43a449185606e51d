"""The Redis users of the IOC: who may run which commands on which keys (docs/SECURITY.md, "Accounts").

Pure rules built from the settings (stream names, consumer groups), so the same text goes to ``ACL SETUSER``
(`ioc services up`, development) and into docker-compose.yml's ACL file (a unit test keeps the two equal).
Every command a process sends is listed here; a new Redis call in a process needs a line here too, or that
process is refused with ``NOPERM`` (the integration tests run each process's paths as its own user).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import redis

from settings import RedisAccount, Settings

# Account (settings: IOC_<ACCOUNT>_REDIS_URL) → Redis user name.
USERS: dict[RedisAccount, str] = {
    "producer": "ioc_producer",
    "ingest": "ioc_ingest",
    "alerts": "ioc_alerts",
    "dashboard": "ioc_dashboard",
}

# A pipeline with transaction=True (redis-py's default) wraps its commands in MULTI/EXEC; they touch no key.
_TRANSACTIONS = ["+multi", "+exec", "+discard"]


def acl_rules(settings: Settings, user_prefix: str = "") -> dict[str, list[str]]:
    """User name → its ACL rules (after ``reset``; without the password), for the configured streams and groups.

    ``user_prefix`` names a separate set of users (the tests' own, for their own streams)."""
    streams = list(settings.shards.names)  # every shard's streams (IOC_STREAM_SHARDS)
    group, alerts_group = settings.consumer_group, settings.alert_consumer_group
    stats, live = f"{group}:stats", f"{group}:live"
    producer = [*(f"%W~{s}" for s in streams), "resetchannels", "-@all", "+xadd", *_TRANSACTIONS]
    # Ingest: its consumer group on the city streams (read, acknowledge, claim, trim), its counters, the shared
    # new-identity counters (streams/admission.py, a Lua script), and XADD only to the dead letter (a selector).
    ingest = [
        *(f"~{s}" for s in streams), f"~{stats}", f"~{group}:new:*", "resetchannels", "-@all",
        "+xgroup|create", "+xgroup|delconsumer", "+xreadgroup", "+xautoclaim", "+xclaim", "+xack",
        "+xinfo|groups", "+xinfo|consumers", "+xpending", "+xtrim", "+hincrby", "+hset",
        "+eval", "+evalsha", "+get", "+incrby", "+expire", "+ping", *_TRANSACTIONS,
        f"(%W~{settings.stream_deadletter} +xadd)",
    ]  # fmt: skip
    # The evaluator: its own consumer group on the city streams, and its leader lease (SET NX, Lua renew/release).
    alerts = [
        *(f"~{s}" for s in streams), "resetchannels", "-@all",
        "+xgroup|create", "+xreadgroup", "+xack", "+ping",
        f"(~{alerts_group}:leader +set +get +pexpire +del +eval +evalsha)",
    ]  # fmt: skip
    # The dashboard: reads the streams' group info and ingest's counters for the pipeline page and whether the
    # evaluator holds its lease; writes only the live snapshot, its build lock, the sign-in and Open311 request
    # counters (per address and minute) and the open-data API's per-key counters and use marks (api/access.py).
    # An admin's dead-letter replay (streams/replay.py, also `ioc deadletter`) reads and deletes letters, appends
    # them to the city streams (XADD only: it reads nothing there) and holds the replay lock.
    dead = settings.stream_deadletter
    dashboard = [
        *(f"%R~{s}" for s in streams), f"%R~{stats}", f"%R~{alerts_group}:leader",
        f"~{live}", f"~{live}:lock", f"~{group}:signin-attempts:*", f"~{group}:open311-reads:*",
        f"~{group}:deadletter-replay", f"~{group}:api:*",
        "resetchannels", "-@all",
        "+ping", "+xinfo|groups", "+xlen", "+hgetall", "+hget", "+hmget", "+hset", "+exists",
        "+set", "+get", "+pexpire", "+del", "+incr", "+incrby", "+expire",
        "+eval", "+evalsha", "+script|load", "+script|exists",
        f"(~{dead} +xrange +xrevrange +xlen +xdel)", f"({' '.join(f'%W~{s}' for s in streams)} +xadd)",
    ]  # fmt: skip
    rules = {"producer": producer, "ingest": ingest, "alerts": alerts, "dashboard": dashboard}
    return {user_prefix + USERS[account]: rules[account] for account in USERS}


def account_password(settings: Settings, account: RedisAccount) -> str | None:
    """The password in IOC_<ACCOUNT>_REDIS_URL, or None when that URL is unset or has none (development)."""
    own = getattr(settings, f"{account}_redis_url").get_secret_value()
    password = urlsplit(own).password if own else None
    return unquote(password) if password else None


def setuser_args(rules: list[str], password: str | None) -> list[str]:
    """``ACL SETUSER`` arguments after the name: start from nothing, then the password (as its SHA-256), then rules.

    Without a password the user takes none (``nopass``): only for a development Redis on the loopback, where the
    default user is open anyway."""
    secret = f"#{hashlib.sha256(password.encode()).hexdigest()}" if password else "nopass"
    return ["reset", "on", secret, *rules]


def apply_acl(client: redis.Redis, settings: Settings, passwords: Mapping[str, str | None],
              user_prefix: str = "") -> list[str]:  # fmt: skip
    """Create or update every IOC user on ``client``'s Redis (idempotent); returns the user names.

    ``passwords``: user name → password (None or absent: ``nopass``, development only)."""
    rules = acl_rules(settings, user_prefix)
    for name, user_rules in rules.items():
        client.execute_command("ACL", "SETUSER", name, *setuser_args(user_rules, passwords.get(name)))
    return list(rules)


def acl_file(settings: Settings, password_refs: Mapping[str, str]) -> str:
    """The ACL file text (one ``user`` line per account) with ``>``+``password_refs[name]`` as each password."""
    lines = [f"user {name} reset on >{password_refs[name]} {' '.join(rules)}" for name, rules in
             acl_rules(settings).items()]  # fmt: skip
    return "\n".join(lines) + "\n"
