"""A complaint's current state → an Open311 service request and a category → a service, as the spec lists
their fields (pure).

What is published and what is not (docs/OPEN311.md): the request's id, category, status, times, district and a
coarsened position. Never the citizen's description (free text: names, phone numbers, addresses), nor the
channel, rating or anything about who handled it; the spec marks those fields optional or has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from open311.catalogue import Service, service

# Our life cycle has three states, the spec two: a request a department has taken is still open.
STATUS = {"open": "open", "in_progress": "open", "closed": "closed"}
IN_PROGRESS_NOTE = "In progress: a department has taken the request."
DB_STATUSES = {"open": ("open", "in_progress"), "closed": ("closed",)}


@dataclass(frozen=True, slots=True)
class Publication:
    """How requests are published: the city's time zone, position precision, agency, district names, SLAs."""

    zone: tzinfo
    decimals: int
    agency: str
    district_names: Mapping[str, str]
    sla_hours: Callable[[str], float]


def w3(moment: datetime, zone: tzinfo) -> str:
    """``moment`` in the city's time, to the second, with its offset: ``2026-11-24T08:30:00+08:00``."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def service_request(row: Mapping[str, object], how: Publication) -> dict[str, object]:
    """One ``complaints`` row (request_id, status, category, district, lat, lon, opened_at, updated_at,
    closed_at) → the spec's request fields, in the spec's order, without those we leave out."""
    category = str(row["category"])
    opened: datetime = row["opened_at"]  # type: ignore[assignment]
    closed = row["status"] == "closed"
    # The spec: for a closed request, updated_datetime is when it was closed.
    updated: datetime = row["closed_at"] if closed and row["closed_at"] else row["updated_at"]  # type: ignore[assignment]
    fields: dict[str, object] = {
        "service_request_id": row["request_id"],
        "status": STATUS.get(str(row["status"]), "open"),
        "status_notes": IN_PROGRESS_NOTE if row["status"] == "in_progress" else None,
        "service_name": service(category).name,
        "service_code": category,
        "agency_responsible": how.agency or None,
        "requested_datetime": w3(opened, how.zone),
        "updated_datetime": w3(updated, how.zone),
        "expected_datetime": w3(opened + timedelta(hours=how.sla_hours(category)), how.zone),
        "address": how.district_names.get(str(row["district"]), str(row["district"])),
        "lat": round(float(row["lat"]), how.decimals),  # type: ignore[arg-type]
        "long": round(float(row["lon"]), how.decimals),  # type: ignore[arg-type]
    }
    return {name: value for name, value in fields.items() if value is not None}


def service_entry(entry: Service) -> dict[str, object]:
    """One service of the service list. No service has attributes, so ``metadata`` is false; ``realtime``: the
    city's channels give a request its id when it is filed."""
    fields: dict[str, object] = {
        "service_code": entry.code,
        "service_name": entry.name,
        "description": entry.description,
        "metadata": False,
        "type": "realtime",
        "keywords": entry.keywords,
        "group": entry.group,
    }
    return {name: value for name, value in fields.items() if value is not None}


def service_definition(code: str) -> dict[str, object]:
    """The definition of service ``code``: no attributes (nothing to fill in: this server takes no requests)."""
    return {"service_code": code, "attributes": []}


SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Sortable; changed when the endpoint's shape or the catalogue of services changes (a category first seen in the
# data joins the service list without changing it: docs/OPEN311.md).
CHANGESET = "2026-12-01T00:00:00Z"
KEY_SERVICE = "No key is needed: this endpoint only reads, and reads are open (GeoReport v2 asks a key for POST)."


def discovery(endpoint_url: str, contact: str) -> dict[str, object]:
    """The Service Discovery document of this one GeoReport v2 endpoint, read-only, in both formats."""
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
