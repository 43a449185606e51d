"""One incident's timeline: its entries and its alerts' peak readings in one time order (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple


class TimelineItem(NamedTuple):
    """One line of the timeline. ``kind`` is an entry kind (``incidents.lifecycle.Entry``) or ``peak_reading``."""

    at: datetime
    kind: str
    actor: str
    alert_id: int | None
    request_id: str | None
    note: str | None
    details: Mapping[str, Any]


def timeline(entries: Sequence[Mapping[str, Any]], peaks: Sequence[Mapping[str, Any]]) -> list[TimelineItem]:
    """Entries (already in time order) and peak readings merged by time; at the same time an entry comes first
    (the alert that fired before the reading that peaked at that instant)."""
    items = [(e["at"], 0, n, TimelineItem(e["at"], e["kind"], e["actor"], e.get("alert_id"), e.get("request_id"),
                                         e.get("note"), e.get("details") or {}))
             for n, e in enumerate(entries)]  # fmt: skip
    items += [(p["ts"], 1, n, TimelineItem(p["ts"], "peak_reading", "", p.get("alert_id"), None, None,
                                          {"device_id": p["device_id"], "metric": p["metric"], "value": p["value"],
                                           "unit": p.get("unit")}))
              for n, p in enumerate(peaks)]  # fmt: skip
    return [item for *_, item in sorted(items, key=lambda t: t[:3])]
