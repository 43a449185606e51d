"""The Open311 services: one per complaint category, its code the category itself (pure).

A category is already a stable lower_snake_case word in every complaint event (docs/EVENTS.md), so it is the
service code as it is: nothing to number, nothing to keep in step. The categories the city's hotline files
under have human names, a group and keywords here; a category that only appears in the data (a producer's new
word) is still listed, named after its words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")  # the event contract's word (streams/fields.py)


@dataclass(frozen=True, slots=True)
class Service:
    """One Open311 service (a complaint category)."""

    code: str
    name: str
    description: str | None = None
    group: str | None = None
    keywords: str | None = None


KNOWN: tuple[Service, ...] = (
    Service(
        "noise",
        "Noise",
        "Noise from building sites at night, loud music, bars.",
        "environment",
        "noise, night works, music, bar",
    ),
    Service(
        "illegal_parking",
        "Illegal parking",
        "Vehicles parked on pavements, in fire lanes or gateways.",
        "traffic",
        "parking, fire lane, pavement",
    ),
    Service(
        "garbage",
        "Garbage",
        "Rubbish not collected, smelly collection points.",
        "sanitation",
        "rubbish, refuse, collection, smell",
    ),
    Service(
        "construction",
        "Construction site",
        "Dust, missing hoardings, spilled muck from building sites.",
        "environment",
        "dust, hoarding, muck truck",
    ),
    Service(
        "environment",
        "Environmental pollution",
        "Polluted rivers, cooking fumes.",
        "environment",
        "river, odour, fumes, pollution",
    ),
    Service(
        "road_damage",
        "Road damage",
        "Potholes, missing manhole covers, loose paving.",
        "streets",
        "pothole, manhole, paving, pavement",
    ),
    Service(
        "water_supply",
        "Water supply",
        "Supply cuts, low pressure, discoloured tap water.",
        "utilities",
        "water, pressure, tap",
    ),
    Service(
        "property_management",
        "Property management",
        "Broken lifts, unclear service charges.",
        "housing",
        "lift, elevator, charges, estate",
    ),
    Service("street_light", "Street light", "Street lights out, or on by day.", "streets", "lamp, light"),
    Service(
        "traffic_signal",
        "Traffic signal",
        "Faulty traffic lights, badly timed signals.",
        "traffic",
        "traffic light, signal",
    ),
    Service(
        "public_security",
        "Public security",
        "Disturbances and suspicious behaviour in public places.",
        "public order",
        "disturbance, crowd, security",
    ),
    Service("waterlogging", "Waterlogging", "Flooded roads and underpasses.", "streets", "flood, standing water"),
)
_BY_CODE = {s.code: s for s in KNOWN}


def service(code: str) -> Service:
    """The service of category ``code``: its catalogue entry, else one named after the code's words."""
    known = _BY_CODE.get(code)
    return known if known is not None else Service(code, code.replace("_", " ").strip().capitalize() or code)


def services(seen: Iterable[str]) -> list[Service]:
    """The catalogue's services, then those of categories only ``seen`` in the data (sorted by code)."""
    extra = sorted({c for c in seen if c not in _BY_CODE and CODE.fullmatch(c)})
    return [*KNOWN, *(service(c) for c in extra)]
