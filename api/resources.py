"""Each endpoint's work: parsed parameters in, a JSON document (and CSV rows) out, over the dashboard's own reads.

The sources are the ones the pages use: ``storage.dashboard_queries`` on the read pool, the live snapshot, the
district file; plus ``api.queries`` for complaint groups. Nothing here knows about HTTP: ``api.routes`` does that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from api import shapes
from api.paging import decode_cursor, encode_cursor, page
from api.params import BadParameter
from api.queries import complaint_aggregates
from storage.dashboard_queries import ConnectionFactory, DashboardQueries, bucket_step, rollup_grain

BUCKETS = {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5), "15m": timedelta(minutes=15),
           "1h": timedelta(hours=1), "6h": timedelta(hours=6), "1d": timedelta(days=1)}  # fmt: skip
MAX_POINTS = 5000  # buckets per series one request may ask for
ROWS_PER_DEVICE = 16  # a page of N devices reads at most 16 N latest-value rows


class Unavailable(Exception):
    """The live snapshot has not been built yet (a fresh start): try again shortly."""


class Sources(Protocol):
    """What the resources read (``bootstrap.DashboardServices`` in production)."""

    @property
    def queries(self) -> DashboardQueries: ...

    def snapshot(self): ...


@dataclass(frozen=True)
class Answer:
    """A JSON document, and the rows and columns of its CSV form where it has one."""

    doc: dict
    csv_columns: tuple[str, ...] = ()
    csv_rows: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """Everything a resource needs besides its parameters."""

    sources: Sources
    connection: ConnectionFactory
    districts_geojson: Callable[[], Mapping]
    position_decimals: int
    max_days: int
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def window(ctx: Context, query: Mapping[str, object]) -> tuple[datetime, datetime]:
    """[since, until) of the query: the last 24 hours by default; at most ``max_days`` long."""
    until = query.get("until") or ctx.now().replace(microsecond=0)
    since = query.get("since") or until - timedelta(hours=24)
    if since >= until:
        raise BadParameter("since", "`since` is before `until`.", 422)
    if until - since > timedelta(days=ctx.max_days):
        raise BadParameter("since", f"A range is at most {ctx.max_days} days.", 422)
    return since, until


def listed(rows: list, query: Mapping[str, object], **extra: object) -> dict:
    """A page of ``rows`` as ``{"data": …, "next_cursor": …}`` plus ``extra``."""
    data, cursor = page(rows, query)
    return {**extra, "data": data, "next_cursor": cursor}


def _snapshot(ctx: Context) -> Mapping:
    snap = ctx.sources.snapshot()
    if snap is None:
        raise Unavailable
    return snap.doc


def kpis_now(ctx: Context, query: Mapping) -> Answer:
    return Answer(shapes.kpis_now(_snapshot(ctx)))


def kpis_range(ctx: Context, query: Mapping) -> Answer:
    since, until = window(ctx, query)
    rows, totals = shapes.kpi_range(ctx.sources.queries.complaint_volume(since, until),
                                    ctx.sources.queries.datacenter_series(since, until))  # fmt: skip
    return Answer(listed(rows, query, since=shapes.iso(since), until=shapes.iso(until), totals=totals))


def districts(ctx: Context, query: Mapping) -> Answer:
    features, cursor = page(shapes.district_features(ctx.districts_geojson()), query)
    return Answer({"type": "FeatureCollection", "features": features, "next_cursor": cursor})


def sensors(ctx: Context, query: Mapping) -> Answer:
    """Devices by id, a page at a time (keyset on the device id: the cursor holds the last one sent). A device is
    never split across pages; one reporting more metrics than a page's read holds (16 per device asked for) shows
    the first of them (by name)."""
    after, limit = decode_cursor(query, str), int(query["limit"])
    kinds = [query["kind"]] if query.get("kind") else None
    districts_ = [query["district"]] if query.get("district") else None
    rows = ctx.sources.queries.sensor_latest(kinds, districts_, limit * ROWS_PER_DEVICE + 1, after)
    devices = shapes.sensors(rows, ctx.position_decimals)
    truncated = len(rows) > limit * ROWS_PER_DEVICE
    if truncated and len(devices) > 1:
        devices = devices[:-1]  # its last metrics may be on the next read: it starts the next page instead
    data = devices[:limit]
    more = truncated or len(devices) > limit
    cursor = encode_cursor(query, data[-1]["id"]) if more and data else None
    return Answer({"data": data, "next_cursor": cursor})


def history(ctx: Context, query: Mapping) -> Answer:
    since, until = window(ctx, query)
    step = _step(query, since, until)
    metric, device = str(query["metric"]), query.get("device")
    if device and query.get("district"):
        raise BadParameter("device", "Ask for a `district` or a `device`, not both.")
    if device:
        rows = ctx.sources.queries.device_series(str(device), metric, since, until, step)
    else:
        districts_ = [query["district"]] if query.get("district") else None
        rows = ctx.sources.queries.district_series(metric, since, until, districts_, step)
    out = shapes.history(rows, device)
    doc = listed(out, query, metric=metric, since=shapes.iso(since), until=shapes.iso(until),
                 bucket=int(step.total_seconds()))  # fmt: skip
    return Answer(doc, ("bucket", "district", "device", "readings", "mean", "low", "high"), doc["data"])


def _step(query: Mapping, since: datetime, until: datetime) -> timedelta:
    name = query.get("bucket") or "auto"
    if name == "auto":
        return bucket_step(until - since)
    step = BUCKETS[name]
    if step < timedelta(hours=1) and rollup_grain(until - since) == "1h" and not query.get("device"):
        raise BadParameter("bucket", "Over more than 6 hours districts read the hour rollups: the finest bucket is 1h.",
                           422)  # fmt: skip
    if (until - since) / step > MAX_POINTS:
        raise BadParameter("bucket", f"At most {MAX_POINTS} buckets per series: choose a wider bucket.", 422)
    return step


def complaints(ctx: Context, query: Mapping) -> Answer:
    since, until = window(ctx, query)
    by = tuple(query.get("by") or ("district",))
    rows = shapes.complaint_groups(complaint_aggregates(ctx.connection, by, since, until), by)
    doc = listed(rows, query, by=list(by), since=shapes.iso(since), until=shapes.iso(until))
    return Answer(doc, (*by, "opened", "closed"), doc["data"])


def datacenters(ctx: Context, query: Mapping) -> Answer:
    since, until = window(ctx, query)
    sites, city = shapes.datacenters(ctx.sources.queries.datacenter_series(since, until))
    return Answer(listed(sites, query, since=shapes.iso(since), until=shapes.iso(until), city=city))


def alerts(ctx: Context, query: Mapping) -> Answer:
    available, items = shapes.alerts(_snapshot(ctx), ctx.position_decimals, query.get("severity"))
    return Answer(listed(items, query, available=available))
