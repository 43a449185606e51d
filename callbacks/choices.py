"""What a callback accepts from a dropdown or text box: a client can send any JSON there, not only what the
component offers, so the callbacks read choices through these instead of trusting their declared type."""

from __future__ import annotations

MAX_CHOICE_CHARS = 256
MAX_CHOICES = 100


def one(value: object) -> str | None:
    """A single choice (a word or an id), or None when the client sent anything else."""
    if isinstance(value, str) and len(value) <= MAX_CHOICE_CHARS:
        return value
    return None


def several(value: object) -> tuple[str, ...]:
    """A multi-select's choices, sorted; a lone word counts as one, anything that is not words as none."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_CHOICES:
        return ()
    return tuple(sorted(v for v in value if isinstance(v, str) and len(v) <= MAX_CHOICE_CHARS))


MAX_ZOOM = 30  # past any tile pyramid


def map_view(bounds: object, zoom: object) -> tuple[list[list[float]] | None, float]:
    """A map's reported view as ``([[south, west], [north, east]] or None, zoom)``; anything else a client sends
    for them reads as "the whole world at zoom 0", which costs the server no more than a real view."""
    zoom_ok = isinstance(zoom, int | float) and not isinstance(zoom, bool) and 0 <= zoom <= MAX_ZOOM
    return (_bounds(bounds), float(zoom) if zoom_ok else 0.0)


def _bounds(value: object) -> list[list[float]] | None:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(c, list) and len(c) == 2 for c in value)):
        return None
    flat = [v for corner in value for v in corner]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and abs(v) <= 360 for v in flat):
        return None
    south, west, north, east = (float(v) for v in flat)
    return [[south, west], [north, east]] if south <= north and west <= east else None
