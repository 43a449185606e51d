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
