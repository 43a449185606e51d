"""How long each complaint category may take to close: the service-level targets behind "resolved within SLA".

Hours from the first event (``opened_at``) to ``closed_at``, per category, from the city pack (``[kpi]`` in its
``city.toml``: ``sla_hours``, and ``sla_default_hours`` for a category not listed).
"""

from __future__ import annotations

from cities.schema import Kpi


def sla_hours(category: str, kpi: Kpi) -> float:
    """Target hours to close a request of ``category``."""
    return kpi.sla_hours.get(category, kpi.sla_default_hours)


def sla_parameters(kpi: Kpi) -> dict[str, object]:
    """The SLA table as query parameters: ``cats`` and ``hours`` (parallel arrays) and ``default``."""
    return {"cats": list(kpi.sla_hours), "hours": list(kpi.sla_hours.values()), "default": kpi.sla_default_hours}
