"""Which incident an alert or a complaint belongs to (pure: no I/O, no clock).

An incident gathers what happens close together in place and time: alerts from the evaluator and complaints
from the public. A member joins an open or monitoring incident when it is in the same district as the incident,
or within ``distance_m`` of its centre, and no more than ``window_s`` after the incident's latest member. Some
alerts may open an incident (``opens``); a complaint never opens one, it only joins. The store
(``incidents/store.py``) asks ``place_of`` where a member is and ``decide`` what to do with it, inside the
transaction of the alert change or complaint it follows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class GroupingRules:
    """The ``[incidents]`` table of the rules file (docs/ALERTS.md, "Incidents").

    An empty ``open_rules``, ``join_rules`` or ``complaint_categories`` means "any"."""

    enabled: bool = True
    window_s: float = 1800.0
    distance_m: float = 2000.0
    quiet_s: float = 3600.0
    open_severities: frozenset[str] = frozenset({"critical"})
    open_rules: frozenset[str] = field(default_factory=frozenset)
    join_rules: frozenset[str] = field(default_factory=frozenset)
    complaint_categories: frozenset[str] = field(default_factory=frozenset)
    max_members: int = 200
    max_open: int = 100

    def opens(self, rule_id: str, severity: str) -> bool:
        """Whether an alert of this rule and severity may open an incident."""
        return self.enabled and severity in self.open_severities and (not self.open_rules or rule_id in self.open_rules)

    def joins_alert(self, rule_id: str, severity: str) -> bool:
        """Whether an alert of this rule may join an incident (one that may open always may join)."""
        return self.enabled and (self.opens(rule_id, severity) or not self.join_rules or rule_id in self.join_rules)

    def joins_complaint(self, category: str) -> bool:
        """Whether a complaint of this category may join an incident."""
        return self.enabled and (not self.complaint_categories or category in self.complaint_categories)


class Place(NamedTuple):
    """Where a member is: its district, and a point when it has one (a district-wide alert has none)."""

    district: str
    lat: float | None = None
    lon: float | None = None


class Candidate(NamedTuple):
    """An alert that fired or a complaint that opened, as grouping sees it (``at``: epoch seconds)."""

    kind: str  # "alert" | "complaint"
    rule_or_category: str
    severity: str | None
    place: Place
    at: float


class OpenIncident(NamedTuple):
    """An incident still open or monitoring, as grouping sees it."""

    id: int
    place: Place  # its district and centre (the place of the member that opened it)
    last_member_at: float
    members: int


class Verdict(StrEnum):
    JOIN = "join"
    OPEN = "open"
    IGNORE = "ignore"


class Decision(NamedTuple):
    """What to do with a candidate: join ``incident_id``, open a new incident, or nothing (``reason`` says why)."""

    verdict: Verdict
    incident_id: int | None = None
    reason: str = ""


def distance_m(a: Place, b: Place) -> float | None:
    """Great-circle distance between two places' points in metres (haversine); None if either has no point."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def near(a: Place, b: Place, rules: GroupingRules) -> bool:
    """Same district, or both have points within ``distance_m`` of each other."""
    if a.district and a.district == b.district:
        return True
    d = distance_m(a, b)
    return d is not None and d <= rules.distance_m


def decide(candidate: Candidate, incidents: Iterable[OpenIncident], rules: GroupingRules) -> Decision:
    """Join the nearest-in-time incident the candidate is close to; else open one if it may; else nothing.

    An incident at ``max_members`` takes no more members (the member is left out, not a new incident: the
    same event should not split in two because it is large). Past ``max_open`` open incidents nothing opens."""
    if candidate.kind == "complaint":
        allowed, may_open = rules.joins_complaint(candidate.rule_or_category), False
    else:
        allowed = rules.joins_alert(candidate.rule_or_category, candidate.severity or "")
        may_open = rules.opens(candidate.rule_or_category, candidate.severity or "")
    if not allowed:
        return Decision(Verdict.IGNORE, reason="not_grouped")
    open_now = list(incidents)
    close = [i for i in open_now
             if near(candidate.place, i.place, rules) and abs(candidate.at - i.last_member_at) <= rules.window_s]
    if close:
        best = max(close, key=lambda i: (i.last_member_at, i.id))
        if best.members >= rules.max_members:
            return Decision(Verdict.IGNORE, best.id, "incident_full")
        return Decision(Verdict.JOIN, best.id)
    if not may_open:
        return Decision(Verdict.IGNORE, reason="no_incident_near")
    if len(open_now) >= rules.max_open:
        return Decision(Verdict.IGNORE, reason="too_many_open")
    return Decision(Verdict.OPEN)
