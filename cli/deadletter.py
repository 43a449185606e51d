"""`ioc deadletter`: list, show and replay the entries ingest refused (docs/EVENTS.md, "Inspect and replay").

Reads and replays as the dashboard's Redis account; a replay is recorded in the audit trail as ``cli:<login>``
(whoever can run this on the server is an admin by virtue of shell access, as with `ioc users`).
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime

import click

from settings import load_settings

VALUE_CHARS = 2000  # of one field, in `show`
REASON_CHARS = 100  # in `list`


def _letters():
    import bootstrap

    settings = load_settings()
    client = bootstrap.redis_client(settings, "dashboard")
    return bootstrap.dead_letter_commands(settings, client, lambda: bootstrap.db_connection(settings, "dashboard"))


def _selection(code: str | None, since: str | None):
    from streams.replay import Selection, parse_since

    try:
        return Selection(code=code or None, since_ms=parse_since(since, datetime.now(UTC)))
    except ValueError as bad:
        raise click.BadParameter(str(bad), param_hint="--since") from None


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ms else "?"


selection_options = [
    click.option("--code", help="Only letters of this dlq_code (missing, too_many_new, …; docs/EVENTS.md)."),
    click.option("--since", help="Only letters written since: an ISO time with offset, or a duration (30m, 2h, 7d)."),
]


def with_selection(func):
    for option in reversed(selection_options):
        func = option(func)
    return func


@click.group()
def deadletter() -> None:
    """The dead letters: entries ingest refused, with the reason (IOC_STREAM_DEADLETTER)."""


@deadletter.command("list")
@with_selection
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000), help="At most this many.")
def list_letters(code: str | None, since: str | None, limit: int) -> None:
    """The newest letters: id, when, code, stream, replays, reason."""
    from streams.deadletter import shown
    from streams.replay import BadLetterAt

    letters = _letters().letters
    found = letters.newest(_selection(code, since), limit)
    for letter in found:
        if isinstance(letter, BadLetterAt):
            click.echo(f"{letter.letter_id:<22} not a letter the IOC wrote: {shown(letter.why.encode(), 200)}")
            continue
        again = f" replayed {letter.replays}x" if letter.replays else ""
        stream, reason = shown(letter.stream.encode(), 40), shown(letter.reason.encode(), REASON_CHARS)
        click.echo(f"{letter.letter_id:<22} {_when(letter.at_ms)}  {letter.code:<16} {stream}{again}  {reason}")
    click.echo(f"{len(found)} shown of {letters.length():,} letters on the stream", err=True)


@deadletter.command()
@click.argument("entry_id")
def show(entry_id: str) -> None:
    """One letter: what the IOC said about it, then the entry's own fields."""
    from streams.deadletter import shown
    from streams.replay import BadLetterAt

    letters = _letters().letters
    letter = letters.show(entry_id)
    if letter is None:
        click.echo(f"no letter {shown(entry_id.encode(), 40)} on the dead-letter stream", err=True)
        sys.exit(1)
    if isinstance(letter, BadLetterAt):
        click.echo(f"{letter.letter_id}: not a letter the IOC wrote ({letter.size:,} bytes): {letter.why}")
        return
    click.echo(f"letter     {letter.letter_id}")
    click.echo(f"code       {letter.code}")
    click.echo(f"reason     {shown(letter.reason.encode(), 1000)}")
    click.echo(f"stream     {shown(letter.stream.encode(), 256)}  entry {letter.entry_id}"
               + (f" (first {letter.original_id})" if letter.original_id != letter.entry_id else ""))  # fmt: skip
    click.echo(f"written    {_when(letter.at_ms)}" + (f", after {letter.replays} replays" if letter.replays else ""))
    if letter.truncated:
        click.echo("truncated  the letter does not hold the whole entry; it cannot be replayed")
    why = letters.refusal(letter)
    if why and not letter.truncated:
        click.echo(f"replay     refused: {why}")
    click.echo("fields")
    for name, value in letter.fields.items():
        click.echo(f"  {shown(name, 64)} = {shown(value, VALUE_CHARS)}")


@deadletter.command()
@with_selection
@click.option("--dry-run", is_flag=True, help="Only count what would be replayed; change nothing.")
@click.option("--limit", type=click.IntRange(1), help="Replay at most this many letters.")
def replay(code: str | None, since: str | None, dry_run: bool, limit: int | None) -> None:
    """Put letters back on their streams, to be judged again by ingest (after a fix).

    An entry now accepted is stored once, even if replayed twice; one still bad comes back with its reason. Only
    letters already there when the replay starts are taken."""
    from auth.command import Refused
    from auth.principal import cli_principal

    selection = _selection(code, since)
    try:
        report = _letters().replay(cli_principal(getpass.getuser()), selection, dry_run=dry_run, limit=limit)
    except Refused as refused:
        click.echo(f"refused: {refused}", err=True)
        sys.exit(2)
    click.echo(report.summary())
    for letter_id, why in report.refused:
        click.echo(f"  refused {letter_id}: {why}", err=True)
    if report.refused_count > len(report.refused):
        click.echo(f"  … and {report.refused_count - len(report.refused):,} more refused", err=True)
