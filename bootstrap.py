"""The composition root: the one place that turns ``Settings`` into clients and workers.

Nothing connects at import time anywhere in the code base; callers (the CLI, gunicorn's ``app:server``, tests)
ask this module for what they need, built against the settings they pass.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import psycopg
import redis

from settings import Settings
from storage.db import connect
from storage.policies import Retention
from streams.consumer import IngestConfig, IngestWorker
from streams.fields import ParseContext
from streams.status import pipeline_status


def redis_client(settings: Settings) -> redis.Redis:
    """Redis for the streams; bytes in and out, since the parsers check the encoding themselves."""
    return redis.Redis.from_url(
        settings.redis_url, decode_responses=False, socket_connect_timeout=5, socket_keepalive=True,
        health_check_interval=30,
    )  # fmt: skip


def db_connection(settings: Settings) -> psycopg.Connection:
    """A new connection working in the IOC schema."""
    return connect(settings.database_url, settings.db_schema)


@lru_cache(maxsize=4)
def _city(path: Path, snap_m: float):
    from geo.city import CityMap

    return CityMap.from_geojson(path, snap_m=snap_m)


def city_map(settings: Settings):
    """The city's districts (parsed once per process)."""
    return _city(settings.districts_geojson, settings.district_snap_m)


def parse_context(settings: Settings) -> ParseContext:
    """The event contract's rules for this city."""
    return ParseContext(
        city=city_map(settings), bounds=settings.city_bounds, max_field_bytes=settings.max_field_bytes,
        max_future_skew_ms=settings.max_future_skew_s * 1000,
    )  # fmt: skip


def retention(settings: Settings) -> Retention:
    """How long each class of table keeps its rows."""
    return Retention(
        raw=timedelta(days=settings.retention_raw_days),
        minute=timedelta(days=settings.retention_minute_days),
        hour=timedelta(days=settings.retention_hour_days),
    )


def ingest_config(settings: Settings) -> IngestConfig:
    """The ingest worker's view of the settings."""
    return IngestConfig(
        streams=settings.streams, group=settings.consumer_group, deadletter_stream=settings.stream_deadletter,
        deadletter_maxlen=settings.deadletter_maxlen, batch=settings.ingest_batch, block_ms=settings.ingest_block_ms,
        claim_idle_ms=settings.claim_idle_ms, housekeeping_interval_s=settings.housekeeping_interval_s,
        db_retry_max_s=settings.db_retry_max_s, retention=retention(settings),
    )  # fmt: skip


def default_consumer_name() -> str:
    """Unique per process: host and pid."""
    return f"{socket.gethostname()}-{os.getpid()}"


class DashboardServices:
    """What the dashboard's callbacks read from, built lazily so creating the app connects to nothing."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._redis: redis.Redis | None = None

    @property
    def redis(self) -> redis.Redis:
        if self._redis is None:
            self._redis = redis_client(self.settings)
        return self._redis

    def health(self) -> dict[str, bool]:
        """Whether Redis and the database answer."""
        status = {"redis": False, "database": False}
        try:
            status["redis"] = bool(self.redis.ping())
        except redis.RedisError:
            pass
        try:
            with db_connection(self.settings) as conn:
                status["database"] = conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error:
            pass
        return status

    def pipeline_status(self) -> dict:
        """Per stream: entries kept, lag, pending, stored, rejected."""
        return pipeline_status(self.redis, self.settings.streams, self.settings.consumer_group)


def ingest_worker(settings: Settings, consumer: str | None = None) -> IngestWorker:
    """An ingest worker wired to the configured Redis and database."""
    return IngestWorker(
        redis_client(settings), lambda: db_connection(settings), ingest_config(settings), parse_context(settings),
        consumer or default_consumer_name(),
    )  # fmt: skip
