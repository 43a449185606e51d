"""The endpoints of /api/v1, declared once: path, scope, parameters, work and response schema. ``api.routes``
serves exactly these, and ``api.openapi`` describes exactly these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from api import resources
from api.params import Param
from api.resources import BUCKETS
from api.scopes import SCOPES

PREFIX = "/api/v1"
PAGE_DEFAULT = 100


@dataclass(frozen=True)
class Endpoint:
    """One read-only endpoint."""

    path: str  # under PREFIX
    name: str  # the OpenAPI operationId and the Flask endpoint
    scope: str
    summary: str
    params: tuple[Param, ...]
    work: Callable[[resources.Context, dict], resources.Answer]
    schema: str  # the response schema in components/schemas
    live: bool = False  # read from the live snapshot: 503 until the first one is built
    csv: bool = False  # also answers text/csv with ?format=csv


def paging(page_max: int) -> tuple[Param, ...]:
    return (
        Param("limit", "integer", f"Items per page (1 to {page_max}).", minimum=1, maximum=page_max,
              default=min(PAGE_DEFAULT, page_max)),
        Param("cursor", "string", "Where the page starts: the `next_cursor` of the page before (opaque).",
              pattern=r"^[A-Za-z0-9_-]{1,512}$", max_length=512),
    )  # fmt: skip


RANGE = (
    Param("since", "datetime", "Start of the range (RFC 3339 with offset). Default: 24 hours before `until`."),
    Param("until", "datetime", "End of the range, exclusive. Default: now."),
)
FORMAT = Param("format", "choice", "`csv` for a CSV file of the rows (the cursor then goes in the `Link` header).",
               choices=("json", "csv"), default="json")  # fmt: skip


def endpoints(page_max: int) -> tuple[Endpoint, ...]:
    """Every endpoint, with pages of at most ``page_max`` items."""
    pages = paging(page_max)
    return (
        Endpoint("/kpis", "kpis_now", "kpis", "The city's KPIs now, with the same time yesterday.", (),
                 resources.kpis_now, "KpisNow", live=True),
        Endpoint("/kpis/range", "kpis_range", "kpis", "New complaints and energy-weighted PUE per bucket over a range.",
                 (*RANGE, *pages), resources.kpis_range, "KpisRange"),
        Endpoint("/districts", "districts", "districts", "District outlines as a GeoJSON FeatureCollection.", pages,
                 resources.districts, "Districts"),
        Endpoint("/sensors", "sensors", "sensors", "Sensors and each metric's latest reading; positions coarsened.",
                 (Param("kind", "string", "Only sensors of this kind (e.g. air, noise)."),
                  Param("district", "string", "Only sensors in this district (its id)."), *pages),
                 resources.sensors, "Sensors"),
        Endpoint("/history", "history", "history", "A metric over time per district (the rollups) or for one device.",
                 (Param("metric", "string", "The metric (e.g. pm25).", required=True),
                  Param("district", "string", "Only this district (its id). Default: every district."),
                  Param("device", "string", "One device instead of districts (its id)."),
                  Param("bucket", "choice", "Bucket width; `auto` keeps a chart to about 24-170 points. Over more "
                        "than 6 hours the finest is `1h`.", choices=("auto", *BUCKETS), default="auto"),
                  *RANGE, FORMAT, *pages),
                 resources.history, "History", csv=True),
        Endpoint("/complaints/aggregates", "complaint_aggregates", "complaints",
                 "Complaint requests opened and closed, grouped by district, category and/or hour. Counts only.",
                 (Param("by", "choices", "Dimensions to group by, comma-separated. Default: district.",
                        choices=("district", "category", "hour")), *RANGE, FORMAT, *pages),
                 resources.complaints, "ComplaintAggregates", csv=True),
        Endpoint("/datacenters", "datacenters", "datacenters", "Data-centre PUE over a range per site and for the "
                 "city, energy-weighted: total facility energy over total IT energy.", (*RANGE, *pages),
                 resources.datacenters, "Datacenters"),
        Endpoint("/alerts", "alerts", "alerts", "Open alerts: rule, subject, severity, status (no notes, no names).",
                 (Param("severity", "choice", "Only this severity.", choices=("critical", "warning", "info")),
                  *pages), resources.alerts, "Alerts", live=True),
    )  # fmt: skip


assert set(SCOPES) == {e.scope for e in endpoints(1)}, "every scope names a resource, every resource a scope"
