"""`ioc serve`: the dashboard under gunicorn."""

from __future__ import annotations

import os
import sys

import click

from settings import load_settings


@click.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256), help="Threads per worker.")
@click.option("--debug", is_flag=True, help="Dash's development server with hot reload instead of gunicorn.")
def serve(workers: int, threads: int, debug: bool) -> None:
    """Serve the dashboard on IOC_HTTP_HOST:IOC_HTTP_PORT (default 127.0.0.1:8050)."""
    settings = load_settings()
    if debug:
        from app import app

        app.run(host=settings.http_host, port=settings.http_port, debug=True)
        return
    bind = f"{settings.http_host}:{settings.http_port}"
    os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "app:server", "--bind", bind,
                               "--workers", str(workers), "--threads", str(threads), "--access-logfile", "-"])
