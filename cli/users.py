"""`ioc users` and `ioc displays`: accounts and wall display tokens from the server's shell.

Whoever can run these on the server is an admin by virtue of shell access (the first admin is made this way:
there is no default account or password). Every change is recorded in the audit trail as ``cli:<login>``.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import click

from i18n.languages import LANGUAGES
from settings import load_settings

T = TypeVar("T")
ROLES = ("viewer", "operator", "admin")


def _commands():
    import bootstrap
    from auth.principal import cli_principal

    settings = load_settings()
    return bootstrap.access_commands(settings, lambda: bootstrap.db_connection(settings, "dashboard")), cli_principal(
        getpass.getuser()), settings  # fmt: skip


def _run(action: Callable[[], T]) -> T:
    """Run a command; a refusal or a database without the tables is one line on stderr and exit status 2."""
    import psycopg

    from auth.command import Refused

    try:
        return action()
    except Refused as refused:
        click.echo(f"refused: {refused}", err=True)
        sys.exit(2)
    except psycopg.errors.UndefinedTable:
        click.echo("error: the database has no accounts table yet; run `ioc migrate` first", err=True)
        sys.exit(2)


def _accounts_exist(settings) -> bool:
    import bootstrap
    from auth import store

    with bootstrap.db_connection(settings, "dashboard") as conn:
        return store.count_users(conn) > 0


def _password(password_stdin: bool, generate: bool) -> str | None:
    """The new password: from stdin, made up (None), or typed twice at a prompt."""
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if generate:
        return None
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to type a password: use --password-stdin or --generate")
    return click.prompt("password (12 or more characters)", hide_input=True, confirmation_prompt=True)


def _show_issued(issued) -> None:
    click.echo(f"password for {issued.name}: {issued.secret}")
    click.echo("shown once: it is stored hashed; hand it over in person", err=True)


password_options = [
    click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin."),
    click.option("--generate", is_flag=True, help="Make a random password and print it once."),
]


def with_password_options(func):
    for option in reversed(password_options):
        func = option(func)
    return func


@click.group()
def users() -> None:
    """Accounts and their roles: viewer, operator, admin (docs/SECURITY.md)."""


@users.command("list")
def list_users() -> None:
    """Every account: role, status, last sign-in."""
    commands, actor, settings = _commands()
    from layouts.admin import user_status

    rows = _run(lambda: commands.users(actor))
    now = datetime.now(UTC)
    for u in rows:
        last = u["last_signin_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if u["last_signin_at"] else "never"
        how = "password" if u["has_password"] else "sso"
        click.echo(f"{u['username']:<24} {u['role']:<9} {user_status(u, now):<22} {how:<9} {last}  {u['full_name']}")
    if not rows:
        click.echo("no accounts yet: `ioc users add NAME --role admin` makes the first admin")


@users.command()
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--full-name", default="", help="Shown in the header and beside the user name.")
@click.option("--if-no-accounts", is_flag=True, help="Do nothing when any account exists (scripts/run.sh's demo).")
@with_password_options
def add(username: str, role: str, full_name: str, if_no_accounts: bool, password_stdin: bool, generate: bool) -> None:
    """Add an account (the first admin: `ioc users add NAME --role admin`)."""
    commands, actor, settings = _commands()
    if if_no_accounts and _run(lambda: _accounts_exist(settings)):
        return
    password = _password(password_stdin, generate)
    issued = _run(lambda: commands.add_user(actor, username, role, full_name, password))
    click.echo(f"added {issued.name} ({role})")
    if password is None:
        _show_issued(issued)


@users.command()
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def role(username: str, role: str) -> None:
    """Change an account's role (takes effect on the user's next request)."""
    commands, actor, _ = _commands()
    user = _run(lambda: commands.set_role(actor, username, role))
    click.echo(f"{user['username']} is now {user['role']}")


@users.command()
@click.argument("username")
def disable(username: str) -> None:
    """Stop an account: no sign-in, and its open sessions end now."""
    commands, actor, _ = _commands()
    user = _run(lambda: commands.disable(actor, username))
    click.echo(f"{user['username']} disabled")


@users.command()
@click.argument("username")
def enable(username: str) -> None:
    """Let a disabled account sign in again."""
    commands, actor, _ = _commands()
    user = _run(lambda: commands.enable(actor, username))
    click.echo(f"{user['username']} enabled")


@users.command()
@click.argument("username")
@with_password_options
def reset(username: str, password_stdin: bool, generate: bool) -> None:
    """Set a new password; clears a lockout and ends the account's open sessions."""
    commands, actor, _ = _commands()
    password = _password(password_stdin, generate)
    issued = _run(lambda: commands.reset_password(actor, username, password))
    click.echo(f"password of {issued.name} reset")
    if password is None:
        _show_issued(issued)


@click.group()
def displays() -> None:
    """Display tokens for wall screens that have no keyboard (docs/SECURITY.md)."""


@displays.command("list")
def list_displays() -> None:
    """Every display token: playlist, status, last use."""
    commands, actor, _ = _commands()
    for d in _run(lambda: commands.displays(actor)):
        status = f"revoked by {d['revoked_by']}" if d["revoked_at"] else "valid"
        used = d["last_used_at"].strftime("%Y-%m-%d %H:%M UTC") if d["last_used_at"] else "never used"
        language = d.get("language") or "default"
        click.echo(f"{d['name']:<24} {','.join(d['playlist']):<32} {d['interval_s']:>4} s  {language:<7} {status:<24} "
                   f"{used}")  # fmt: skip


@displays.command()
@click.argument("name")
@click.option(
    "--views",
    default="overview,map,alerts,energy",
    show_default=True,
    help="The playlist: overview, map, alerts, energy (comma-separated).",
)
@click.option("--interval", default=30, show_default=True, type=click.IntRange(5, 3600), help="Seconds per view.")
@click.option("--language", default="", type=click.Choice(["", *LANGUAGES]),
              help="The wall's language (default: IOC_DEFAULT_LANGUAGE; docs/LANGUAGES.md).")  # fmt: skip
def issue(name: str, views: str, interval: int, language: str) -> None:
    """Issue a token for one wall screen; prints the link to open once on that screen."""
    commands, actor, settings = _commands()
    playlist = [v.strip() for v in views.split(",") if v.strip()]
    issued = _run(lambda: commands.issue_display(actor, name, playlist, interval, language))
    click.echo(f"{settings.dashboard_url.rstrip('/')}/wall?token={issued.secret}")
    click.echo("shown once: open it on the display; the token is stored hashed", err=True)


@displays.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke a display's token: its wall stops within IOC_DISPLAY_RECHECK_S and says so."""
    commands, actor, settings = _commands()
    _run(lambda: commands.revoke_display(actor, name))
    click.echo(f"revoked {name}: its wall stops within {settings.display_recheck_s:g} s")
