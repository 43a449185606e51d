"""Malformed entries, injected on purpose (``--malformed-rate``) to show the dead-letter path at work.

Each fault breaks the event contract (docs/EVENTS.md) in one way a real feed does: a field lost by a
gateway, a NaN from a failed sensor, a GPS fix outside the city, a status the platform does not know, a field
blown up past the size limit. Every one of them must be rejected, never stored.
"""

from __future__ import annotations

import random

MISSING, NOT_FINITE, OUTSIDE_CITY, UNKNOWN_WORD, TOO_LARGE = (
    "missing", "not_finite", "outside_city", "unknown_word", "too_large",
)  # fmt: skip
FAULTS = (MISSING, NOT_FINITE, OUTSIDE_CITY, UNKNOWN_WORD, TOO_LARGE)

# stream kind → field a gateway may drop / field that may turn NaN.
_REQUIRED = {
    "iot": ("device_id", "value", "kind", "lat"),
    "complaints": ("request_id", "status", "district"),
    "datacenter": ("site", "it_kw", "facility_kw"),
}
_NUMBER = {"iot": "value", "complaints": "lat", "datacenter": "facility_kw"}


def outside(bounds: tuple[float, float, float, float]) -> tuple[str, str]:
    """A (lat, lon) south-west of the city's bounds: in no district, and refused by the ingest."""
    west, south, _, _ = bounds
    return f"{max(south - 0.1, -90.0):.6f}", f"{max(west - 0.1, -180.0):.6f}"


def corrupt(
    kind: str, fields: dict[str, str], rng: random.Random, max_field_bytes: int, outside_at: tuple[str, str]
) -> dict[str, str]:
    """A copy of ``fields`` broken by one randomly chosen fault (the ingest must reject it)."""
    bad = dict(fields)
    fault = rng.choice(FAULTS)
    if fault == MISSING:
        del bad[rng.choice(_REQUIRED[kind])]
    elif fault == NOT_FINITE:
        bad[_NUMBER[kind]] = rng.choice(("NaN", "inf", "-Infinity"))
    elif fault == OUTSIDE_CITY and kind != "datacenter":
        bad["lat"], bad["lon"] = outside_at
    elif fault == UNKNOWN_WORD and kind == "complaints":
        bad["status"] = "reopened"
    elif fault == UNKNOWN_WORD and kind == "iot":
        bad["kind"] = "Air Quality!"
    elif fault == TOO_LARGE:
        bad["description" if kind == "complaints" else "device_id" if kind == "iot" else "site"] = "x" * (
            max_field_bytes + 1
        )
    else:  # a data-centre sample has no position or word to spoil: report an impossible PUE instead
        bad["facility_kw"] = f"{float(fields['it_kw']) * 0.5:.1f}"
    return bad
