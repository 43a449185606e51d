"""`ioc services up|status|down`: Redis and TimescaleDB for development, tests and benchmarks."""

from __future__ import annotations

import sys
import time

import click

from infra import read_replica, redis_cluster
from infra import services as infra
from settings import load_settings


def _say(line: str) -> None:
    click.echo(line, err=True)


@click.group()
def services() -> None:
    """Redis and TimescaleDB at IOC_REDIS_URL and IOC_DATABASE_URL (see DEVELOPERS.md)."""


@services.command()
def up() -> None:
    """Make Redis and TimescaleDB answer; idempotent, and fast once they run.

    Uses what already answers at the configured URLs; otherwise starts the missing services with
    `docker compose` if a Docker engine answers, or, as root on Debian, from a Debian trixie chroot at
    IOC_CHROOT_DIR (created once, ~40 s). Then makes sure the database and its `<name>_test` twin exist
    with the timescaledb extension.
    """
    started = time.monotonic()
    try:
        infra.up(load_settings(), _say)
    except infra.ServicesError as error:
        raise click.ClickException(str(error)) from error
    _say(f"services up in {time.monotonic() - started:.1f} s")


@services.command()
def status() -> None:
    """Say what answers and how: URLs, versions, TimescaleDB licence, and who started it.

    Exits 1 if Redis or either database (with TimescaleDB) does not answer.
    """
    ok, lines = infra.status(load_settings())
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)


@services.command()
def down() -> None:
    """Stop only what `ioc services up` started (compose services, or the chroot's servers); data is kept."""
    try:
        infra.down(load_settings(), _say)
    except infra.ServicesError as error:
        raise click.ClickException(str(error)) from error


@services.group()
def cluster() -> None:
    """A local Redis Cluster for tests: 3 masters, a replica each, at IOC_REDIS_CLUSTER_URL (see DEVELOPERS.md)."""


@cluster.command("up")
def cluster_up() -> None:
    """Start the six nodes and create the cluster if needed; idempotent. Waits for cluster_state:ok."""
    started = time.monotonic()
    try:
        redis_cluster.up(load_settings(), _say)
    except infra.ServicesError as error:
        raise click.ClickException(str(error)) from error
    _say(f"cluster up in {time.monotonic() - started:.1f} s")


@cluster.command("status")
def cluster_status() -> None:
    """Each node's role and cluster state, and whether `cluster up` started it; exit 1 unless all are ok."""
    ok, lines = redis_cluster.status(load_settings())
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)


@cluster.command("down")
def cluster_down() -> None:
    """Stop only the nodes `ioc services cluster up` started here; their data and slots are kept."""
    try:
        redis_cluster.down(load_settings(), _say)
    except infra.ServicesError as error:
        raise click.ClickException(str(error)) from error


@services.group()
def replica() -> None:
    """A hot standby of the chroot's TimescaleDB for the dashboard's reads (IOC_DATABASE_READ_URL; DEVELOPERS.md)."""


@replica.command("up")
@click.option("--rebuild", is_flag=True, help="Make it again from a fresh base backup (its data is only a copy).")
def replica_up(rebuild: bool) -> None:
    """Set the replica up (pg_basebackup once) and start it; idempotent. Waits until it streams from the primary."""
    started = time.monotonic()
    try:
        read_replica.up(load_settings(), _say, rebuild=rebuild)
    except infra.ServicesError as error:
        raise click.ClickException(str(error)) from error
    _say(f"replica up in {time.monotonic() - started:.1f} s")


@replica.command("status")
def replica_status() -> None:
    """Whether the replica answers as a hot standby and streams; exit 1 if not."""
    ok, line = read_replica.status(load_settings())
    click.echo(line)
    sys.exit(0 if ok else 1)


@replica.command("down")
def replica_down() -> None:
    """Stop the replica only; its data is kept, the primary runs on."""
    try:
        read_replica.down(load_settings(), _say)
    except infra.ServicesError as error:
        raise click.ClickException(str(error)) from error
