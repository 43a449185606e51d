"""`ioc config`: the effective settings, or the reference table of every setting."""

from __future__ import annotations

import click

from settings import REPO_ROOT, Settings, load_settings


def settings_table() -> str:
    """Markdown rows: env name, default, meaning (the source of docs/CONFIGURATION.md)."""
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = "the city pack's" if field.default is None else field.default
        if isinstance(default, tuple):
            default = ",".join(str(v) for v in default)
        default = str(default).replace(str(REPO_ROOT) + "/", "")
        lines.append(f"| `IOC_{name.upper()}` | `{default}` | {field.description} |")
    return "\n".join(lines)


@click.command()
@click.option("--reference", is_flag=True, help="Print the Markdown table of every setting with its default.")
def config(reference: bool) -> None:
    """Show the settings in effect (from IOC_* environment variables); passwords and secrets are masked."""
    if reference:
        click.echo(settings_table())
        return
    for name, value in load_settings().redacted().items():
        click.echo(f"IOC_{name.upper()}={value}")
