"""`ioc ingest`: consume the city streams into TimescaleDB."""

from __future__ import annotations

import click

from settings import load_settings


@click.command()
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes; they share the load through the consumer group.")
@click.option("--consumer-prefix", default=None,
              help="Stable consumer names PREFIX-0..N-1, so a restarted worker re-reads its own pending entries "
                   "at once. Default: host-pid names (pending entries of a dead worker are claimed after "
                   "IOC_CLAIM_IDLE_MS).")
@click.option("--batch", type=click.IntRange(1, 100_000), default=None, help="Entries per read (IOC_INGEST_BATCH).")
def ingest(workers: int, consumer_prefix: str | None, batch: int | None) -> None:
    """Read the IoT, complaint and data-centre streams, store them, acknowledge after commit.

    Bad entries go to the dead-letter stream (IOC_STREAM_DEADLETTER) with the reason. Runs until SIGTERM or
    Ctrl-C; each worker finishes the batch in hand first.
    """
    from streams.runner import run_workers

    overrides = {"ingest_batch": batch} if batch else {}
    run_workers(load_settings(**overrides), workers, consumer_prefix)
