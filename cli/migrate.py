"""`ioc migrate`: create or update the IOC tables in TimescaleDB."""

from __future__ import annotations

import click

from settings import load_settings


@click.command()
@click.option("--schema", default=None, help="Schema to migrate (default IOC_DB_SCHEMA).")
def migrate(schema: str | None) -> None:
    """Apply the versioned migrations not yet applied (idempotent; safe to run from several hosts at once).

    Also registers retention and compression policies where the TimescaleDB licence allows them. Connected (by
    IOC_DATABASE_URL) as an administrator, it first creates the roles ioc_owner, ioc_ingest, ioc_alerts,
    ioc_dashboard and ioc_audit_writer, with the passwords of IOC_INGEST_DATABASE_URL, IOC_ALERTS_DATABASE_URL
    and IOC_DASHBOARD_DATABASE_URL; migrations run as ioc_owner, and each role's privileges are set afresh.
    """
    import bootstrap
    from storage.migrate import migrate as run_migrations

    settings = load_settings(**({"db_schema": schema} if schema else {}))
    applied = run_migrations(settings.database_url, settings.db_schema, bootstrap.retention(settings),
                             bootstrap.database_role_passwords(settings))
    if applied:
        click.echo(f"applied to schema {settings.db_schema}: {', '.join(applied)}")
    else:
        click.echo(f"schema {settings.db_schema} is up to date")
