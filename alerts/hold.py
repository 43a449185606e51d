"""The pending / firing / recovering state machine of one rule and subject (pure).

    ok ──breach──▶ pending ──held `for`──▶ FIRING ──clear──▶ recovering ──clear for `keep_firing_for`──▶ OK
                      │                      ▲                   │
                      └──clear──▶ ok         └──────breach───────┘   (same alert, nothing new is sent)

Only the two capitalised transitions are reported; they become "fired" and "resolved" in the alert store.
`keep_firing_for` is the flapping suppression (as Prometheus and Grafana call it): a value that dips below the
threshold and comes back within that time never resolves the alert, so receivers see one alert, not a storm.
Time here is the evaluator's clock (seconds), which ticks even when no data arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

OK, PENDING, FIRING, RECOVERING = "ok", "pending", "firing", "recovering"


@dataclass(slots=True)
class Hold:
    """Where one rule+subject stands, with the last value and verdict (re-judged on every clock tick)."""

    status: str = OK
    since: float = 0.0
    value: float = 0.0
    breaching: bool = False

    @property
    def active(self) -> bool:
        """Firing as far as receivers know (recovering is still firing until it resolves)."""
        return self.status in (FIRING, RECOVERING)


def step(hold: Hold, breaching: bool, value: float, now: float, for_s: float, keep_s: float) -> str | None:
    """Apply one verdict at ``now``; returns ``"firing"`` or ``"ok"`` when the alert changes, else None."""
    hold.value, hold.breaching = value, breaching
    status = hold.status
    if status == OK:
        if not breaching:
            return None
        hold.status, hold.since = PENDING, now
        status = PENDING
    if status == PENDING:
        if not breaching:
            hold.status = OK
            return None
        if now - hold.since >= for_s:
            hold.status, hold.since = FIRING, now
            return FIRING
        return None
    if status == FIRING:
        if breaching:
            return None
        hold.status, hold.since = RECOVERING, now
        status = RECOVERING
    if breaching:  # recovering, and the breach is back: still the same alert
        hold.status = FIRING
        return None
    if now - hold.since >= keep_s:
        hold.status = OK
        return OK
    return None
