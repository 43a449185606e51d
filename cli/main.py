"""`ioc`: the one command line of the IOC. Each subcommand lives in its own module of this package.

Subcommands are imported only when used, so `ioc ingest` does not pay for the dashboard's imports.
"""

from __future__ import annotations

import importlib
import logging

import click

SUBCOMMANDS = {
    "services": "cli.services:services",
    "migrate": "cli.migrate:migrate",
    "simulate": "cli.simulate:simulate",
    "ingest": "cli.ingest:ingest",
    "serve": "cli.serve:serve",
    "config": "cli.config:config",
    "alerts": "cli.alerts:alerts",
    "users": "cli.users:users",
    "displays": "cli.users:displays",
    "apikeys": "cli.apikeys:apikeys",
    "deadletter": "cli.deadletter:deadletter",
}


class LazyGroup(click.Group):
    """A click group that imports a subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def main(verbose: bool) -> None:
    """Intelligent Operation Center: city streams in, live dashboard out.

    Settings come from IOC_* environment variables (docs/CONFIGURATION.md).
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


if __name__ == "__main__":
    main()
