"""`ioc apikeys`: keys of the open-data API (/api/v1) from the server's shell, as `ioc displays` does for walls.

Whoever can run these on the server is an admin by virtue of shell access; every change is in the audit trail
as ``cli:<login>`` (docs/API.md, docs/SECURITY.md).
"""

from __future__ import annotations

import getpass

import click

from cli.users import _run
from settings import load_settings


def _commands():
    import bootstrap
    from api.keys import ApiKeyCommands
    from auth.principal import cli_principal

    settings = load_settings()
    return ApiKeyCommands(lambda: bootstrap.db_connection(settings, "dashboard")), cli_principal(getpass.getuser())


@click.group()
def apikeys() -> None:
    """Keys of the open-data API: scopes per resource, revocable (docs/API.md)."""


@apikeys.command("list")
def list_keys() -> None:
    """Every key: scopes, limit, who issued it, last use, status (never the key itself)."""
    commands, actor = _commands()
    rows = _run(lambda: commands.keys(actor))
    for k in rows:
        status = f"revoked by {k['revoked_by']}" if k["revoked_at"] else "valid"
        used = k["last_used_at"].strftime("%Y-%m-%d %H:%M UTC") if k["last_used_at"] else "never used"
        limit = f"{k['requests_per_minute']}/min" if k["requests_per_minute"] else "default"
        click.echo(f"{k['name']:<24} {','.join(k['scopes']):<40} {limit:>10}  {status:<24} {used}")
    if not rows:
        click.echo("no API keys yet: `ioc apikeys issue NAME --scopes kpis,districts`")


@apikeys.command()
@click.argument("name")
@click.option("--scopes", required=True, help="Resources it may read, comma-separated: kpis, districts, sensors, "
              "history, complaints, datacenters, alerts.")  # fmt: skip
@click.option("--per-minute", type=click.IntRange(1, 100_000), default=None,
              help="Its own requests per minute (default: IOC_API_REQUESTS_PER_MINUTE).")  # fmt: skip
def issue(name: str, scopes: str, per_minute: int | None) -> None:
    """Issue a key; prints it once (it is stored hashed)."""
    commands, actor = _commands()
    issued = _run(lambda: commands.issue(actor, name, scopes.split(","), per_minute))
    click.echo(issued.secret)
    click.echo(f"API key {issued.name}: shown once, stored hashed; send it as `Authorization: Bearer <key>`",
               err=True)  # fmt: skip


@apikeys.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke a key: its next request is refused (401)."""
    commands, actor = _commands()
    _run(lambda: commands.revoke(actor, name))
    click.echo(f"revoked {name}")
