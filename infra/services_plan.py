"""Where Redis and TimescaleDB come from: the pure decision behind `ioc services up`, tested without services.

Ways to have a service, in order of preference:

1. it already answers at the configured URL (for PostgreSQL: with `timescaledb` available) → use it;
2. a Docker engine answers → ``docker compose up -d`` the missing ones (docker-compose.yml);
3. root on Debian → a Debian trixie chroot with PostgreSQL 17 + TimescaleDB + Redis (timescaledb_chroot.sh).

Docker and the chroot only help for a local address: nothing here can make a remote host answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from settings import mask_url_password

LOCAL_HOSTS = frozenset({"", "127.0.0.1", "localhost", "::1"})
REMOTE_ADVICE = "A remote address is not this machine's to start: make it answer there, or use a local address."
LOCAL_ADVICE = (
    "This machine has no Docker engine and is not root on Debian, so it cannot start them: install Docker with "
    "the compose plugin, or run PostgreSQL with TimescaleDB at IOC_DATABASE_URL and Redis at IOC_REDIS_URL yourself."
)


class Source(StrEnum):
    """Where a service comes from."""

    EXISTING = "already running"
    COMPOSE = "docker compose"
    CHROOT = "Debian trixie chroot"


@dataclass(frozen=True)
class Probes:
    """What answered when `up` looked around."""

    redis: bool
    postgres: bool
    timescaledb: bool
    docker: bool
    root: bool
    debian: bool


@dataclass(frozen=True)
class Plan:
    """Where each service will come from; ``problem`` set means at least one cannot be had, and says why."""

    redis: Source | None
    postgres: Source | None
    problem: str | None = None


def postgres_address(database_url: str) -> tuple[str, int, str]:
    """Host, port and database name of a PostgreSQL URL or conninfo string."""
    params = conninfo_to_dict(database_url)
    host = str(params.get("host") or "")
    return host, int(params.get("port") or 5432), str(params.get("dbname") or params.get("user") or "postgres")


def redis_address(redis_url: str) -> tuple[str, int, str]:
    """Host, port and password ('' if none) of a Redis URL."""
    parts = urlsplit(redis_url)
    return parts.hostname or "", parts.port or 6379, parts.password or ""


def database_url_for_tests(database_url: str) -> str:
    """The same server, database ``<name>_test``: where the tests write. A ``_test`` URL is its own answer."""
    dbname = postgres_address(database_url)[2]
    if dbname.endswith("_test"):
        return database_url
    dbname += "_test"
    if "://" in database_url:
        parts = urlsplit(database_url)
        return urlunsplit(parts._replace(path="/" + dbname))
    return make_conninfo(database_url, dbname=dbname)


def _source_for(answers: bool, local: bool, probes: Probes) -> Source | None:
    if answers:
        return Source.EXISTING
    if not local:
        return None
    if probes.docker:
        return Source.COMPOSE
    if probes.root and probes.debian:
        return Source.CHROOT
    return None


def plan_up(redis_url: str, database_url: str, probes: Probes) -> Plan:
    """Decide where Redis and TimescaleDB come from, or explain in one message why they cannot."""
    if probes.postgres and not probes.timescaledb:
        problem = (
            f"PostgreSQL answers at IOC_DATABASE_URL={mask_url_password(database_url)} but has no timescaledb "
            "extension available. "
            "Install TimescaleDB there, or point IOC_DATABASE_URL at a free local port (the default is 5433) "
            "and run `ioc services up` again."
        )
        return Plan(None, None, problem)
    redis_local = redis_address(redis_url)[0] in LOCAL_HOSTS
    pg_local = postgres_address(database_url)[0] in LOCAL_HOSTS
    plan = Plan(_source_for(probes.redis, redis_local, probes), _source_for(probes.postgres, pg_local, probes))
    missing = [(f"Redis at IOC_REDIS_URL={mask_url_password(redis_url)}", redis_local)] if plan.redis is None else []
    if plan.postgres is None:
        missing.append((f"PostgreSQL with TimescaleDB at IOC_DATABASE_URL={mask_url_password(database_url)}", pg_local))
    if not missing:
        return plan
    advice = [REMOTE_ADVICE] if any(not local for _, local in missing) else []
    advice += [LOCAL_ADVICE] if any(local for _, local in missing) else []
    problem = " ".join([f"Nothing answers as {' and '.join(name for name, _ in missing)}.", *advice,
                        "Then run `ioc services up` again."])  # fmt: skip
    return Plan(plan.redis, plan.postgres, problem)


# The accounts' passwords docker-compose.yml requires. `ioc services up` starts only Redis and TimescaleDB from it
# and sets the Redis users itself right after (infra/redis_acl.py), so these only let the file interpolate.
ACCOUNT_PASSWORD_VARIABLES = (
    "DB_INGEST_PASSWORD", "DB_ALERTS_PASSWORD", "DB_DASHBOARD_PASSWORD", "REDIS_PRODUCER_PASSWORD",
    "REDIS_INGEST_PASSWORD", "REDIS_ALERTS_PASSWORD", "REDIS_DASHBOARD_PASSWORD",
)  # fmt: skip
UNSET_BY_SERVICES_UP = "replaced-by-ioc-services-up"


def compose_environment(redis_url: str, database_url: str) -> dict[str, str]:
    """Variables docker-compose.yml interpolates, so the containers answer at the configured URLs."""
    params = conninfo_to_dict(database_url)
    password = str(params.get("password") or "")
    redis_password = redis_address(redis_url)[2]
    return {
        "TIMESCALEDB_PORT": str(postgres_address(database_url)[1]),
        "REDIS_PORT": str(redis_address(redis_url)[1]),
        "POSTGRES_USER": str(params.get("user") or "postgres"),
        "POSTGRES_PASSWORD": password,
        # A development URL without a password can only work with trust; production sets a password.
        "POSTGRES_HOST_AUTH_METHOD": "scram-sha-256" if password else "trust",
        # IOC_REDIS_URL is the administrator here (it sets the users up): the default user, open without a
        # password only when the URL has none, as the chroot's and the machine's development Redis are.
        "REDIS_DEFAULT_USER": "on " + (f"#{hashlib.sha256(redis_password.encode()).hexdigest()}" if redis_password
                                       else "nopass") + " ~* &* +@all",  # fmt: skip
        **dict.fromkeys(ACCOUNT_PASSWORD_VARIABLES, UNSET_BY_SERVICES_UP),
    }


# The development read replica (`ioc services replica up`, infra/read_replica.py): a hot standby of the chroot's
# PostgreSQL on the next port, unless IOC_DATABASE_READ_URL names another.
DEFAULT_REPLICA_PORT = 5434


def replica_port(read_url: str, database_url: str) -> int:
    """The port the development replica listens on; ValueError when IOC_DATABASE_READ_URL cannot be one here."""
    if not read_url:
        return DEFAULT_REPLICA_PORT
    host, port, _ = postgres_address(read_url)
    if host not in LOCAL_HOSTS:
        raise ValueError(f"IOC_DATABASE_READ_URL names {host}: {REMOTE_ADVICE}")
    if port == postgres_address(database_url)[1]:
        raise ValueError(f"IOC_DATABASE_READ_URL and IOC_DATABASE_URL both name port {port}: the replica needs its own")
    return port


def replica_url(database_url: str, port: int) -> str:
    """The same database, user and options as ``database_url``, on the replica's port."""
    if "://" in database_url:
        parts = urlsplit(database_url)
        netloc = parts.netloc.rsplit("@", 1)
        host = (parts.hostname or "127.0.0.1") if ":" not in (parts.hostname or "") else f"[{parts.hostname}]"
        return urlunsplit(parts._replace(netloc="@".join([*netloc[:-1], f"{host}:{port}"])))
    return make_conninfo(database_url, port=str(port))
