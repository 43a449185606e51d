"""`ioc services replica up|status|down`: a hot standby of the chroot's TimescaleDB for the dashboard's reads.

Development only, and only where `ioc services up` runs TimescaleDB from the Debian chroot: the recipe is
``timescaledb_chroot.sh start-replica`` (``pg_basebackup -R`` from the primary into a second data directory in
the chroot, cluster ``17/replica``, on its own port). Docker or a server of your own: make a replica there and
point IOC_DATABASE_READ_URL at it.

Setting the replica up never restarts the shared primary: the primary's configuration for it (``wal_level =
replica``, ``max_wal_senders``, a replication rule in pg_hba) is PostgreSQL's default or reloadable, and
``start-postgres`` restarts only when a changed setting needs it.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from infra import services
from infra.services_plan import postgres_address, replica_port, replica_url
from settings import Settings, mask_url_password

Say = services.Say
# A base backup of a development database (hundreds of MB) on a busy disk, then the first WAL: under a minute.
READY_TIMEOUT_S = 120.0


def _port(settings: Settings) -> int:
    try:
        return replica_port(settings.database_read_url.get_secret_value(), settings.database_url)
    except ValueError as error:
        raise services.ServicesError(str(error)) from error


def url(settings: Settings) -> str:
    """The replica's URL: IOC_DATABASE_READ_URL if set, else IOC_DATABASE_URL's database on the replica's port."""
    return settings.database_read_url.get_secret_value() or replica_url(settings.database_url, _port(settings))


def primary_in_chroot(settings: Settings) -> bool:
    """Whether the PostgreSQL at IOC_DATABASE_URL runs from the chroot (its backend's root is the chroot's)."""
    try:
        with psycopg.connect(make_conninfo(settings.database_url, connect_timeout=3)) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            return Path(f"/proc/{row[0]}/root").resolve(strict=True) == settings.chroot_dir.resolve()
    except (psycopg.Error, OSError):
        return False


def streaming(replica: str) -> bool:
    """Whether the replica answers, is in recovery (read-only), and receives the primary's WAL."""
    try:
        with psycopg.connect(make_conninfo(replica, connect_timeout=3)) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver) = 'streaming'"
            ).fetchone()
            return bool(row and row[0] and row[1])
    except psycopg.Error:
        return False


def up(settings: Settings, say: Say, rebuild: bool = False) -> str:
    """Make the replica answer and stream from the primary (idempotent); return its URL."""
    port, replica = _port(settings), url(settings)
    if not primary_in_chroot(settings):
        raise services.ServicesError(
            f"the TimescaleDB at IOC_DATABASE_URL={mask_url_password(settings.database_url)} does not run from the "
            f"chroot at {settings.chroot_dir}: `ioc services replica` sets a replica up only for that one (as root). "
            "Make a streaming replica where that server runs and point IOC_DATABASE_READ_URL at it."
        )
    primary_port = str(postgres_address(settings.database_url)[1])
    say(f"{'rebuilding' if rebuild else 'starting'} the read replica on port {port} from the chroot's TimescaleDB")
    args = [str(settings.chroot_dir), primary_port, str(port), *(["rebuild"] if rebuild else [])]
    services._chroot("start-replica", *args)
    try:
        services.wait_until(lambda: streaming(replica), f"the replica at {mask_url_password(replica)}", READY_TIMEOUT_S)
    except services.ServicesError:
        if rebuild:
            raise
        # The replica is a copy: when it cannot catch up (the primary recycled the WAL it needed while it was
        # stopped, there is no slot), it is made again from the primary. Once.
        say("the replica does not stream from the primary: making it again with a fresh base backup")
        return up(settings, say, rebuild=True)
    say(f"read replica {mask_url_password(replica)}: hot standby, streaming")
    return replica


def status(settings: Settings) -> tuple[bool, str]:
    """Whether the replica streams, and a line with its replay delay."""
    replica = url(settings)
    shown = mask_url_password(replica)
    try:
        with psycopg.connect(make_conninfo(replica, connect_timeout=3)) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), (SELECT status FROM pg_stat_wal_receiver),"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
            ).fetchone()
    except psycopg.Error as error:
        return False, f"replica      {shown}: not answering ({' '.join(str(error).split())})"
    assert row is not None
    recovery, receiver, delay = row
    if not recovery:
        return False, f"replica      {shown}: answers, but is not a standby (it accepts writes)"
    since = f", last replayed transaction {float(delay):.1f} s ago" if delay is not None else ""
    receiving = f"WAL receiver {receiver or 'not running'}"
    return receiver == "streaming", f"replica      {shown}: hot standby, {receiving}{since}"


def down(settings: Settings, say: Say) -> None:
    """Stop the replica only (its data is kept; the primary runs on)."""
    if not settings.chroot_dir.exists():
        say("nothing to stop: there is no chroot here")
        return
    say("stopping the read replica (cluster 17/replica of the chroot)")
    services._chroot("stop-replica", str(settings.chroot_dir))
