"""The dead-letter entry for a rejected event: its original fields, the reason, and where it came from."""

from __future__ import annotations

from collections.abc import Mapping

# A dead letter keeps the evidence, but one absurd field must not make the dead-letter stream itself huge.
KEEP_BYTES = 65_536


def dead_letter(
    fields: Mapping[bytes, bytes], *, stream: str, entry_id: bytes, code: str, reason: str, at_ms: int
) -> dict[bytes, bytes]:
    """Fields for the dead-letter stream; ``dlq_*`` fields are added beside the original ones."""
    kept: dict[bytes, bytes] = {}
    truncated = False
    for key, value in fields.items():
        if len(value) > KEEP_BYTES:
            value, truncated = value[:KEEP_BYTES], True
        kept[key[:KEEP_BYTES]] = value
    kept.update({
        b"dlq_reason": reason.encode(),
        b"dlq_code": code.encode(),
        b"dlq_stream": stream.encode(),
        b"dlq_id": entry_id,
        b"dlq_at_ms": str(at_ms).encode(),
    })  # fmt: skip
    if truncated:
        kept[b"dlq_truncated"] = b"1"
    return kept
