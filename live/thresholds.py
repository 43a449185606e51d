"""When a sensor is normal, warning, critical or stale: the judge of the status bands (pure).

The bands are not written here: they are the `[[band]]` tables and the `[stale_after]` table of the alert rules
file (config/alert_rules.toml, parsed and validated by ``alerts/bands.py``), so the colour of a dot on the maps
and the device alert a band opens come from one definition an operator can read. This module only applies them:
a reading is judged against the band of its (kind, metric); a device's status is its worst metric's, and
``Verdict`` says which band and level made it so (what the map's side panel tells an officer).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

NORMAL, WARNING, CRITICAL, STALE = "normal", "warning", "critical", "stale"
SEVERITY = {NORMAL: 0, WARNING: 1, CRITICAL: 2, STALE: 3}


@dataclass(frozen=True)
class Band:
    """The warning and critical levels of one (kind, metric); ``above`` says whether high values are bad.

    ``rule_id`` names the device alert the band opens when a device stays at ``alert_level`` or worse for
    ``hold_s`` seconds (``alerts/bands.py`` turns the band into that rule)."""

    kind: str
    metric: str
    warning: float
    critical: float
    above: bool = True
    alert_level: str = CRITICAL
    hold_s: float = 0.0

    @property
    def name(self) -> str:
        """How the band is named to people: ``kind/metric``."""
        return f"{self.kind}/{self.metric}"

    @property
    def rule_id(self) -> str:
        """The id of the alert rule this band opens (and of its alerts)."""
        return band_rule_id(self.kind, self.metric)

    @property
    def op(self) -> str:
        """The comparison a level is reached by: ``>=`` for high-is-bad bands, ``<=`` for low-is-bad ones."""
        return ">=" if self.above else "<="

    def level(self, value: float) -> str:
        """The level ``value`` falls in: normal, warning or critical."""
        if self.above:
            return CRITICAL if value >= self.critical else WARNING if value >= self.warning else NORMAL
        return CRITICAL if value <= self.critical else WARNING if value <= self.warning else NORMAL

    def limit(self, level: str) -> float:
        """The value at which ``level`` (warning or critical) starts."""
        return self.critical if level == CRITICAL else self.warning


def band_rule_id(kind: str, metric: str) -> str:
    """The alert rule id of the band of (kind, metric)."""
    return f"band_{kind}_{metric}"


class Verdict(NamedTuple):
    """One metric of one device judged: its status, and what made it so.

    ``band``/``limit``/``op`` name the band and the level crossed (``band`` alone when normal, all None
    without a band); ``rule_id`` is the band's alert rule;
    ``age_s`` and ``stale_after_s`` say how long the device has been silent and when it counts as stale."""

    status: str
    metric: str
    value: float
    age_s: float
    stale_after_s: float
    band: str | None = None
    limit: float | None = None
    op: str | None = None
    rule_id: str | None = None
    alert_after_s: float | None = None  # the band's hold when this level opens its alert; None when it does not


@dataclass(frozen=True)
class StatusBands:
    """Every band by (kind, metric), and minutes of silence after which a device of a kind is stale."""

    bands: Mapping[tuple[str, str], Band]
    stale_after_s: Mapping[str, float]
    default_stale_after_s: float

    @classmethod
    def of(cls, bands: Iterable[Band], stale_after_s: Mapping[str, float], default_stale_after_s: float) -> StatusBands:
        """Bands keyed by their (kind, metric)."""
        return cls({(b.kind, b.metric): b for b in bands}, dict(stale_after_s), default_stale_after_s)

    def stale_after(self, kind: str) -> float:
        """Seconds of silence after which a device of ``kind`` is stale."""
        return self.stale_after_s.get(kind, self.default_stale_after_s)

    def judge(self, kind: str, metric: str, value: float, age_s: float) -> Verdict:
        """One metric of one device, ``age_s`` after its latest reading (a metric without a band is never
        out of band, only stale)."""
        stale_after = self.stale_after(kind)
        if age_s > stale_after:
            return Verdict(STALE, metric, value, age_s, stale_after)
        band = self.bands.get((kind, metric))
        level = band.level(value) if band else NORMAL
        if level == NORMAL:
            return Verdict(NORMAL, metric, value, age_s, stale_after, band.name if band else None)
        alerting = SEVERITY[level] >= SEVERITY[band.alert_level]
        return Verdict(level, metric, value, age_s, stale_after, band.name, band.limit(level), band.op, band.rule_id,
                       band.hold_s if alerting else None)  # fmt: skip

    def status(self, kind: str, metric: str, value: float, age_s: float) -> str:
        """Only the status of ``judge``."""
        return self.judge(kind, metric, value, age_s).status


def worst(statuses: list[str]) -> str:
    """The most severe of several statuses (stale beats critical: we cannot vouch for the others)."""
    return max(statuses, key=SEVERITY.__getitem__, default=STALE)


def worst_verdict(verdicts: Iterable[Verdict]) -> Verdict | None:
    """The most severe verdict; the first of equals, so the answer is stable for a stable order."""
    found: Verdict | None = None
    for verdict in verdicts:
        if found is None or SEVERITY[verdict.status] > SEVERITY[found.status]:
            found = verdict
    return found
