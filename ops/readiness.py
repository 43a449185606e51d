"""Whether the dashboard is ready to serve the city (``/readyz``), judged from observed facts (pure).

``/healthz`` says the process is alive. Ready means more: Redis and the database answer, the ingest workers keep
up with the city streams (their consumer group's lag is under ``max_lag`` on each), and the live snapshot every
view reads was built within ``max_snapshot_age_s``. ``ops.probes`` observes the facts; ``judge`` only decides, so
every verdict can be tested without a service or a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ReadinessLimits:
    """How far behind the pipeline may be and still be ready (IOC_READY_MAX_LAG, IOC_READY_MAX_SNAPSHOT_AGE_S)."""

    max_lag: int
    max_snapshot_age_s: float


@dataclass(frozen=True)
class Observed:
    """What the probes saw. ``redis`` and ``database``: None when they answered, else what went wrong.

    ``lag``: city stream → entries not yet delivered to the ingest group (None: Redis could not tell, e.g. after
    entries were deleted past the group's position); empty when Redis did not answer. ``snapshot_built_ms``: when
    the live snapshot was built (None: never)."""

    redis: str | None
    database: str | None
    lag: Mapping[str, int | None]
    snapshot_built_ms: int | None
    now_ms: int


@dataclass(frozen=True)
class Verdict:
    """Ready or not, and each check with its figure (the JSON body of ``/readyz``)."""

    ready: bool
    checks: dict[str, dict]

    @property
    def failed(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check["ok"]]

    def body(self) -> dict:
        return {"ready": self.ready, "failed": self.failed, "checks": self.checks}


def judge(seen: Observed, limits: ReadinessLimits) -> Verdict:
    """Each check's outcome with the figure behind it; ready only when all pass."""
    checks = {
        "redis": _answered(seen.redis),
        "database": _answered(seen.database),
        "ingest_lag": _lag(seen, limits.max_lag),
        "snapshot": _snapshot(seen, limits.max_snapshot_age_s),
    }
    return Verdict(all(c["ok"] for c in checks.values()), checks)


def _answered(error: str | None) -> dict:
    return {"ok": True} if error is None else {"ok": False, "error": error}


def _lag(seen: Observed, max_lag: int) -> dict:
    if seen.redis is not None:
        return {"ok": False, "error": "not observed: Redis did not answer", "max": max_lag}
    behind = {stream: lag for stream, lag in seen.lag.items() if lag is not None and lag > max_lag}
    # A lag Redis cannot compute is not evidence of falling behind: it is shown, not failed on.
    check = {"ok": not behind, "lag": dict(seen.lag), "max": max_lag}
    if behind:
        worst = max(behind, key=behind.__getitem__)
        check["error"] = f"{worst}: {behind[worst]} entries waiting for ingest (more than {max_lag})"
    return check


def _snapshot(seen: Observed, max_age_s: float) -> dict:
    if seen.redis is not None:
        return {"ok": False, "error": "not observed: Redis did not answer", "max_age_s": max_age_s}
    if seen.snapshot_built_ms is None:
        return {"ok": False, "error": "the live snapshot has not been built yet", "age_s": None,
                "max_age_s": max_age_s}  # fmt: skip
    age_s = max(0.0, (seen.now_ms - seen.snapshot_built_ms) / 1000)
    check = {"ok": age_s <= max_age_s, "age_s": round(age_s, 3), "max_age_s": max_age_s}
    if not check["ok"]:
        check["error"] = f"the live snapshot is {age_s:.0f} s old (more than {max_age_s:g} s)"
    return check
