"""How long each complaint category may take to close: the service-level targets behind "resolved within SLA".

Hours from the first event (``opened_at``) to ``closed_at``. Urgent categories (public security, waterlogging,
traffic signals) get hours; works that need a crew or a contractor get days. A category not listed gets
``DEFAULT_SLA_HOURS``.
"""

from __future__ import annotations

DEFAULT_SLA_HOURS = 72.0

SLA_HOURS: dict[str, float] = {
    "public_security": 4.0,
    "waterlogging": 12.0,
    "traffic_signal": 24.0,
    "illegal_parking": 8.0,
    "noise": 24.0,
    "garbage": 24.0,
    "water_supply": 24.0,
    "environment": 72.0,
    "street_light": 72.0,
    "construction": 120.0,
    "road_damage": 120.0,
    "property_management": 168.0,
}


def sla_hours(category: str) -> float:
    """Target hours to close a request of ``category``."""
    return SLA_HOURS.get(category, DEFAULT_SLA_HOURS)
