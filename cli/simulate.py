"""`ioc simulate`: a believable day of the city (IOC_CITY's pack) on the city streams (docs/SIMULATOR.md)."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from settings import Settings, load_settings, mask_url_password
from simulator.incidents import KINDS, parse_trigger

if TYPE_CHECKING:
    import redis

    from simulator.engine import CitySimulation, SimConfig

log = logging.getLogger(__name__)
# A triggered incident without a live phase is placed this long before the end of the backfill.
NO_LIVE_INCIDENT_LEAD_MS = 3 * 3_600_000


def _progress_every(seconds: float) -> Callable[[int, int], None]:
    """A backfill progress callback that logs at most once per ``seconds``."""
    next_at = [time.monotonic() + seconds]

    def report(done: int, total: int) -> None:
        if time.monotonic() >= next_at[0]:
            log.info("backfill %.0f%% done", 100 * done / max(total, 1))
            next_at[0] = time.monotonic() + seconds

    return report


def sim_config(settings: Settings, malformed_rate: float = 0.0) -> SimConfig:
    """The simulated city the settings describe (the live run and the back-fill build the same one)."""
    from simulator.engine import SimConfig

    return SimConfig(
        seed=settings.sim_seed, sensors=settings.sim_sensors, readings_per_s=settings.sim_readings_per_s,
        complaints_per_hour=settings.sim_complaints_per_hour, datacenter_sites=settings.sim_datacenter_sites,
        malformed_rate=malformed_rate, max_field_bytes=settings.max_field_bytes,
        scheduled_incidents=settings.sim_incidents, pack=settings.city_pack, timezone=settings.city_timezone,
    )  # fmt: skip


def _check_incident(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            parse_trigger(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from error
    return values


@click.group(invoke_without_command=True)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Live sensor readings per second (IOC_SIM_READINGS_PER_S, default 200).",
)
@click.option("--sensors", type=click.IntRange(1), default=None, help="Simulated IoT devices (IOC_SIM_SENSORS).")
@click.option(
    "--complaints-per-hour",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="New service requests per hour at the daily peak (IOC_SIM_COMPLAINTS_PER_HOUR).",
)
@click.option("--sites", type=click.IntRange(1), default=None, help="Data-centre sites (IOC_SIM_DATACENTER_SITES).")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed of the city (IOC_SIM_SEED): the same seed gives the same devices and, for the same "
    "clock, the same events.",
)
@click.option(
    "--backfill-days",
    type=click.FloatRange(0, 366),
    default=0.0,
    show_default=True,
    help="First write this many days of history (events with past ts) as fast as Redis takes them.",
)
@click.option(
    "--backfill-rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Readings per simulated second in the backfill (IOC_SIM_BACKFILL_READINGS_PER_S, default 20).",
)
@click.option("--no-live", is_flag=True, help="Stop after the backfill instead of continuing in real time.")
@click.option(
    "--duration-s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop the live phase after this many seconds (default: run until Ctrl-C or SIGTERM).",
)
@click.option(
    "--incident",
    "incident",
    multiple=True,
    callback=_check_incident,
    metavar="NAME[:TARGET]",
    help=f"Start an incident now, i.e. where the backfill ends and live begins ({', '.join(KINDS)}); "
    "repeatable. TARGET is a gauge's device id (flood), a district id (air) or a site (cooling); "
    "default: the seed picks. "
    "With --no-live it starts 3 h (at most half the backfill) before the backfill ends.",
)
@click.option(
    "--scheduled-incidents/--no-scheduled-incidents",
    default=None,
    help="Play the seeded incident schedule (IOC_SIM_INCIDENTS, default on).",
)
@click.option(
    "--malformed-rate",
    type=click.FloatRange(0, 0.5),
    default=0.0,
    show_default=True,
    help="Share of entries to spoil on purpose (missing field, NaN, position in Hong Kong, unknown "
    "status, over-long field) to show the dead-letter stream at work.",
)
@click.pass_context
def simulate(
    ctx: click.Context,
    rate: float | None,
    sensors: int | None,
    complaints_per_hour: float | None,
    sites: int | None,
    seed: int | None,
    backfill_days: float,
    backfill_rate: float | None,
    no_live: bool,
    duration_s: float | None,
    incident: tuple[str, ...],
    scheduled_incidents: bool | None,
    malformed_rate: float,
) -> None:
    """Publish simulated sensor readings, complaints and data-centre samples to the city streams.

    `ioc simulate backfill` instead writes days of simulated history straight into TimescaleDB."""
    if ctx.invoked_subcommand is not None:
        return
    import bootstrap
    from simulator.engine import CitySimulation

    overrides = {
        "sim_readings_per_s": rate,
        "sim_sensors": sensors,
        "sim_complaints_per_hour": complaints_per_hour,
        "sim_datacenter_sites": sites,
        "sim_seed": seed,
        "sim_backfill_readings_per_s": backfill_rate,
        "sim_incidents": scheduled_incidents,
    }
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    sim = CitySimulation(bootstrap.city_map(settings), sim_config(settings, malformed_rate))
    now_ms = int(time.time() * 1000)
    for text in incident:
        try:
            lead_ms = min(NO_LIVE_INCIDENT_LEAD_MS, int(backfill_days * 86_400_000) // 2) if no_live else 0
            started = sim.trigger(text, now_ms - lead_ms)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--incident") from error
        click.echo(f"incident {started.kind} on {started.target} from ts {started.start_ms}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        written = _publish(sim, settings, bootstrap.redis_client(settings, "producer"), now_ms, backfill_days, no_live,
                           duration_s, stop)  # fmt: skip
    except KeyboardInterrupt:
        stop.set()
        written = None
    click.echo("stopped" if written is None else f"done: {written:,} entries written")


def _publish(
    sim: CitySimulation,
    settings: Settings,
    client: redis.Redis,
    now_ms: int,
    backfill_days: float,
    no_live: bool,
    duration_s: float | None,
    stop: threading.Event,
) -> int:
    """The backfill (if asked), then the live phase (unless ``no_live``); returns the entries written."""
    from simulator.publisher import backfill_to_now, run_live

    written, live_from = 0, now_ms
    if backfill_days:
        begin = time.monotonic()
        written, live_from = backfill_to_now(
            sim,
            client,
            settings.shards,
            now_ms - int(backfill_days * 86_400_000),
            settings.sim_backfill_readings_per_s,
            stop,
            wall_ms=lambda: int(time.time() * 1000),
            progress=_progress_every(5.0),
        )
        took = time.monotonic() - begin
        click.echo(f"backfill: {written:,} entries in {took:.1f} s ({written / max(took, 1e-9):,.0f}/s)")
    if not no_live:
        click.echo(
            f"live: {settings.sim_readings_per_s:g} readings/s from {settings.sim_sensors} sensors "
            f"to {mask_url_password(settings.redis_url_for('producer'))}; Ctrl-C stops"
        )
        written += run_live(sim, client, settings.shards, live_from, duration_s, stop)
    return written


@simulate.command()
@click.option(
    "--days",
    type=click.FloatRange(0, 366),
    default=None,
    help="Days of history to have (IOC_BACKFILL_DAYS, default 7); 0 does nothing.",
)
@click.option(
    "--interval-s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Each sensor metric reports once per this many seconds in the last two days of history, three times "
    "less often before (IOC_BACKFILL_INTERVAL_S, 600).",
)
@click.option(
    "--live-rate-min",
    type=click.FloatRange(0),
    default=None,
    help="Minutes from 24 h ago (plus the 10 before) written at the live rate (IOC_BACKFILL_LIVE_RATE_MIN, 30).",
)
def backfill(days: float | None, interval_s: float | None, live_rate_min: float | None) -> None:
    """Write simulated history straight into TimescaleDB, where the database has none (idempotent).

    Fills the gap between the newest stored reading and now, at most --days long, through the ingest's own
    writer (raw rows, current state and rollups); a second run finds the history and returns at once."""
    import bootstrap
    from simulator.backfill import backfill_database, gap_to_fill, newest_reading_ms
    from simulator.engine import CitySimulation
    from simulator.history import SAMPLE_INTERVAL_S, coarse_rate, stretches

    overrides = {"backfill_days": days, "backfill_interval_s": interval_s, "backfill_live_rate_min": live_rate_min}
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    if settings.backfill_days == 0:
        click.echo("backfill: off (IOC_BACKFILL_DAYS=0)")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    begin = time.monotonic()
    conn = bootstrap.db_connection(settings, "ingest")  # history written as ingest writes it (its role suffices)
    try:
        # Asked first, so that a run with history in place answers before loading the city (a second or two).
        missing = gap_to_fill(newest_reading_ms(conn), int(time.time() * 1000), settings.backfill_days)
        conn.commit()
        filled = None
        if missing is not None:
            config = dataclasses.replace(sim_config(settings), datacenter_interval_s=SAMPLE_INTERVAL_S)
            sim = CitySimulation(bootstrap.city_map(settings), config)
            coarse = coarse_rate(len(sim.channels), settings.backfill_interval_s)
            live_rate_ms = int(settings.backfill_live_rate_min * 60_000)

            def plan(start_ms: int, end_ms: int, now_ms: int) -> list:
                return stretches(start_ms, end_ms, now_ms, coarse, settings.sim_readings_per_s, live_rate_ms)

            filled = backfill_database(sim, conn, bootstrap.parse_context(settings), settings.backfill_days, plan,
                                       stop=stop, progress=_progress_every(5.0))  # fmt: skip
    finally:
        conn.close()
    if filled is None:
        click.echo(f"backfill: history already reaches now in schema {settings.db_schema}; nothing to do")
        return
    took = time.monotonic() - begin
    click.echo(
        f"backfill: {(filled.end_ms - filled.start_ms) / 86_400_000:.2f} days, {filled.readings:,} readings, "
        f"{filled.complaints:,} complaint events, {filled.samples:,} data-centre samples in {took:.1f} s"
        + (" (stopped early)" if stop.is_set() else "")
    )
