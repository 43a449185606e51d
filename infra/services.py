"""`ioc services up/status/down`: the probes, Docker, the chroot script and SQL around the pure plan.

:mod:`infra.services_plan` decides where Redis and TimescaleDB come from; this module looks around, carries the
plan out, waits (bounded) until both answer, and makes sure the database and its ``_test`` twin hold TimescaleDB.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
from psycopg import sql
from psycopg.conninfo import make_conninfo

from infra import redis_acl
from infra.services_plan import (
    LOCAL_HOSTS,
    Plan,
    Probes,
    Source,
    compose_environment,
    database_url_for_tests,
    plan_up,
    postgres_address,
    redis_address,
)
from settings import REPO_ROOT, Settings, mask_url_password
from storage import roles

CHROOT_SCRIPT = Path(__file__).with_name("timescaledb_chroot.sh")
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# URLs `up` served with docker compose, so `down` stops only those (the repo's /var/ is git-ignored). The chroot
# needs no record: only `up` starts anything from it, and a server's /proc/PID/root tells whether it runs there.
STATE_FILE = REPO_ROOT / "var" / "services-up.json"
COMPOSE_SERVICE = {"redis": "redis", "postgres": "timescaledb"}
READY_TIMEOUT_S = 120.0
# Creating the chroot or pulling images over a slow link takes minutes, not hours.
SETUP_TIMEOUT_S = 1800.0

Say = Callable[[str], None]


class ServicesError(RuntimeError):
    """A service cannot be brought up; the message says what to do."""


# --- probes ---------------------------------------------------------------------------------------------


def redis_answers(redis_url: str) -> bool:
    """Whether Redis answers PING."""
    try:
        with redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _maintenance_conninfo(database_url: str, dbname: str = "postgres") -> str:
    return make_conninfo(database_url, dbname=dbname, connect_timeout=3)


def postgres_answers(database_url: str) -> tuple[bool, bool]:
    """Whether PostgreSQL answers, and whether the timescaledb extension is available in it."""
    try:
        with psycopg.connect(_maintenance_conninfo(database_url), autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
            return True, bool(row and row[0])
    except psycopg.Error:
        return False, False


def docker_answers() -> bool:
    """Whether a Docker engine and the compose plugin answer (the client alone is not enough)."""
    if not shutil.which("docker"):
        return False
    checks = (["docker", "info"], ["docker", "compose", "version"])
    try:
        return all(subprocess.run(c, capture_output=True, timeout=30).returncode == 0 for c in checks)
    except subprocess.TimeoutExpired:
        return False


def probe(settings: Settings) -> Probes:
    """Look at the configured services and at what this machine could start."""
    redis_ok = redis_answers(settings.redis_url)
    pg, ts = postgres_answers(settings.database_url)
    return Probes(
        redis=redis_ok,
        postgres=pg,
        timescaledb=ts,
        # Asked only when something must be started: `docker info` can take seconds on a busy engine.
        docker=not (redis_ok and ts) and docker_answers(),
        root=os.geteuid() == 0,
        debian=Path("/etc/debian_version").exists(),
    )


def wait_until(check: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``check`` with growing pauses until it holds; raise after ``timeout`` seconds."""
    deadline, pause = time.monotonic() + timeout, 0.1
    while not check():
        if time.monotonic() > deadline:
            raise ServicesError(f"{what} did not answer within {timeout:.0f} s")
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


# --- carrying the plan out --------------------------------------------------------------------------------


def _read_state() -> dict[str, str]:
    try:
        return dict(json.loads(STATE_FILE.read_text()))
    except (OSError, ValueError):
        return {}


def _write_state(state: dict[str, str]) -> None:
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2) + "\n")


def _run(command: list[str], what: str) -> None:
    try:
        subprocess.run(command, check=True, timeout=SETUP_TIMEOUT_S)
    except subprocess.CalledProcessError as error:
        raise ServicesError(f"{what} failed (exit {error.returncode}); its output is above") from error
    except subprocess.TimeoutExpired as error:
        raise ServicesError(f"{what} did not finish within {SETUP_TIMEOUT_S:.0f} s") from error


def _compose(settings: Settings, *args: str) -> None:
    variables = compose_environment(settings.redis_url, settings.database_url)
    # `env K=V docker …` hands compose its variables without this process reading or copying its own environment.
    command = ["env", *(f"{k}={v}" for k, v in variables.items()), "docker", "compose", "-f", str(COMPOSE_FILE), *args]
    _run(command, f"docker compose {args[0]}")


def _chroot(*args: str) -> None:
    _run(["bash", str(CHROOT_SCRIPT), *args], f"{CHROOT_SCRIPT.name} {args[0]}")


def ensure_database(database_url: str, dbname: str) -> str:
    """Create ``dbname`` if missing and the timescaledb extension in it; return the extension's version."""
    with psycopg.connect(_maintenance_conninfo(database_url), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):  # a concurrent `up` created it first
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    with psycopg.connect(_maintenance_conninfo(database_url, dbname), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        return str(row[0]) if row else "?"


def _start(plan: Plan, settings: Settings, say: Say) -> None:
    urls = {"redis": settings.redis_url, "postgres": settings.database_url}
    in_compose = [
        name for name, source in (("redis", plan.redis), ("postgres", plan.postgres)) if source is Source.COMPOSE
    ]
    if in_compose:
        say(f"starting {', '.join(COMPOSE_SERVICE[name] for name in in_compose)} with docker compose")
        _compose(settings, "up", "-d", *(COMPOSE_SERVICE[name] for name in in_compose))
        _write_state(_read_state() | {urls[name]: str(Source.COMPOSE) for name in in_compose})
    if plan.postgres is Source.CHROOT:
        say(f"starting TimescaleDB from the chroot at {settings.chroot_dir}")
        _chroot("start-postgres", str(settings.chroot_dir), str(postgres_address(settings.database_url)[1]))
    if plan.redis is Source.CHROOT:
        say(f"starting Redis from the chroot at {settings.chroot_dir}")
        _, port, password = redis_address(settings.redis_url)
        _chroot("start-redis", str(settings.chroot_dir), str(port), password)


def up(settings: Settings, say: Say) -> Plan:
    """Make Redis and TimescaleDB answer at the configured URLs (idempotent); raise ServicesError if impossible."""
    plan = plan_up(settings.redis_url, settings.database_url, probe(settings))
    if plan.problem:
        raise ServicesError(plan.problem)
    _start(plan, settings, say)
    wait_until(lambda: redis_answers(settings.redis_url), f"Redis at {mask_url_password(settings.redis_url)}")
    wait_until(lambda: postgres_answers(settings.database_url)[1],
               f"TimescaleDB at {mask_url_password(settings.database_url)}")
    say(f"Redis        {mask_url_password(settings.redis_url)}  ({plan.redis})")
    say(f"TimescaleDB  {mask_url_password(settings.database_url)}  ({plan.postgres})")
    dbname = postgres_address(settings.database_url)[2]
    databases = list(dict.fromkeys([dbname, postgres_address(database_url_for_tests(settings.database_url))[2]]))
    for name in databases:
        say(f"  database {name}: timescaledb {ensure_database(settings.database_url, name)}")
    ensure_accounts(settings, databases, say)
    _ensure_read_replica(settings, say)
    return plan


def _ensure_read_replica(settings: Settings, say: Say) -> None:
    """With IOC_DATABASE_READ_URL on this machine and TimescaleDB from the chroot, the replica there too."""
    from infra import read_replica  # it builds on this module

    read_url = settings.database_read_url.get_secret_value()
    if not read_url or postgres_address(read_url)[0] not in LOCAL_HOSTS:
        return
    if read_replica.primary_in_chroot(settings):
        read_replica.up(settings, say)
    elif not read_replica.streaming(read_url):
        say(f"  IOC_DATABASE_READ_URL={mask_url_password(read_url)} does not answer as a streaming replica; "
            "`ioc services up` makes one only beside the chroot's TimescaleDB (DEVELOPERS.md)")  # fmt: skip


def ensure_accounts(settings: Settings, databases: list[str], say: Say) -> None:
    """The Redis users and PostgreSQL roles of docs/SECURITY.md, as docker-compose.yml has them (idempotent).

    Passwords come from the accounts' own URLs (IOC_<ACCOUNT>_REDIS_URL, IOC_<ACCOUNT>_DATABASE_URL); an account
    without one takes none, which a development Redis and the chroot's PostgreSQL (trust on loopback) accept.
    The default Redis user is left as it is: the tests and the development URLs use it."""
    passwords = {redis_acl.USERS[a]: redis_acl.account_password(settings, a) for a in redis_acl.USERS}
    try:
        with redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5) as client:
            users = redis_acl.apply_acl(client, settings, passwords)
        say(f"  Redis users: {', '.join(users)}")
    except redis.ResponseError as error:  # NOPERM: IOC_REDIS_URL's user may not manage users
        say(f"  Redis users not set up ({error}): run `ioc services up` with an administrator's IOC_REDIS_URL")
    import bootstrap  # the accounts' passwords, from the settings (composition root)

    for name in databases:
        with psycopg.connect(_maintenance_conninfo(settings.database_url, name), autocommit=True) as conn:
            if not roles.may_manage_roles(conn):
                say("  PostgreSQL roles not set up: IOC_DATABASE_URL's user may not create roles")
                return
            roles.ensure_roles(conn, bootstrap.database_role_passwords(settings))
    say(f"  PostgreSQL roles: {', '.join(roles.GROUP_ROLES + roles.LOGIN_ROLES)} (privileges: `ioc migrate`)")


# --- status and down ----------------------------------------------------------------------------------------


def _origin(pid: int, url: str, settings: Settings) -> str:
    """How a server process came to be: from the chroot (its root says so), compose (if `up` did it), or not ours."""
    try:
        if Path(f"/proc/{pid}/root").resolve(strict=True) == settings.chroot_dir.resolve():
            return f"{Source.CHROOT} at {settings.chroot_dir}"
    except OSError:
        pass  # not ours to inspect: another user's process, or one in another PID namespace (a container)
    if _read_state().get(url) == Source.COMPOSE:
        return f"{Source.COMPOSE} (started by ioc services up)"
    return "external (not started by ioc services up)"


def redis_status(settings: Settings) -> tuple[bool, str]:
    """Whether Redis answers, and a line saying which Redis and how it runs."""
    try:
        with redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2) as client:
            info = client.info("server")
    except (redis.RedisError, OSError) as error:
        return False, f"Redis        {mask_url_password(settings.redis_url)}: not answering ({error})"
    origin = _origin(int(info["process_id"]), settings.redis_url, settings)
    return True, f"Redis        {mask_url_password(settings.redis_url)}: Redis {info['redis_version']}, {origin}"


def database_status(settings: Settings, database_url: str) -> tuple[bool, str]:
    """Whether the database answers with TimescaleDB, and a line with its version, licence and origin."""
    query = (
        "SELECT current_setting('server_version'), pg_backend_pid(),"
        " (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),"
        " current_setting('timescaledb.license', true)"
    )
    try:
        with psycopg.connect(make_conninfo(database_url, connect_timeout=3)) as conn:
            row = conn.execute(query).fetchone()
            assert row is not None
            server, pid, version, licence = row
            # While connected: the backend process ends with the connection, and with it /proc/PID.
            origin = _origin(int(pid), settings.database_url, settings)
    except psycopg.Error as error:
        return False, f"TimescaleDB  {mask_url_password(database_url)}: not answering ({' '.join(str(error).split())})"
    shown = mask_url_password(database_url)
    if not version:
        return False, f"TimescaleDB  {shown}: PostgreSQL {server} without the timescaledb extension"
    return True, f"TimescaleDB  {shown}: {version} (license {licence}), PostgreSQL {server}, {origin}"


def status(settings: Settings) -> tuple[bool, list[str]]:
    """Whether everything answers, and one line per service and database."""
    results = [
        redis_status(settings),
        database_status(settings, settings.database_url),
        database_status(settings, database_url_for_tests(settings.database_url)),
    ]
    if settings.database_read_url.get_secret_value():
        from infra import read_replica

        results.append(read_replica.status(settings))
    return all(ok for ok, _ in results), [line for _, line in results]


def down(settings: Settings, say: Say) -> None:
    """Stop what `up` started: its compose services, and whatever runs from the chroot."""
    state = _read_state()
    urls = {"redis": settings.redis_url, "postgres": settings.database_url}
    in_compose = [COMPOSE_SERVICE[name] for name, url in urls.items() if state.get(url) == Source.COMPOSE]
    if in_compose:
        say(f"stopping {', '.join(in_compose)} (docker compose; volumes kept)")
        # Only these services: `compose down` would also stop a dashboard or ingest started by hand.
        _compose(settings, "rm", "--stop", "--force", *in_compose)
    # Only `up` starts anything from the chroot, so whatever runs from it is ours to stop.
    if settings.chroot_dir.exists():
        if os.geteuid() != 0:
            raise ServicesError(f"stopping the chroot at {settings.chroot_dir} needs root")
        say(f"stopping TimescaleDB and Redis of the chroot at {settings.chroot_dir}")
        _chroot("stop", str(settings.chroot_dir))
    if not in_compose and not settings.chroot_dir.exists():
        say("nothing to stop: ioc services up started nothing here")
    left = {url: source for url, source in state.items() if url not in urls.values()}
    if left:
        _write_state(left)
    else:
        STATE_FILE.unlink(missing_ok=True)
