"""Status bands: the `[[band]]` and `[stale_after]` tables of the rules file, validated (pure).

A band gives one (kind, metric) its warning and critical levels. The same band does two things, so they can never
disagree: ``live/thresholds.py`` colours each sensor on the maps by it, and the evaluator watches it as a device
rule (``band_<kind>_<metric>``) that opens an alert when a device stays at the band's alert level (critical
unless the band says warning) for its hold time `for`. `[stale_after]` says, per kind, how long a device may be
silent before the maps show it stale. Problems are reported like the rules' (``alerts/rules.py``): every one,
each naming the band and the field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alerts.rule_fields import RuleFields, duration_s
from live.thresholds import CRITICAL, WARNING, Band, StatusBands

log = logging.getLogger(__name__)

BAND_FIELDS = frozenset({"kind", "metric", "warning", "critical", "direction", "alert", "for", "keep_firing_for",
                         "labels"})  # fmt: skip
DEFAULT_STALE_AFTER_S = 600.0  # `[stale_after] default`, when the file does not say
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def parse_bands(document: Mapping[str, Any], problems: list[str]) -> StatusBands:
    """The bands and stale-after times of a parsed rules document; appends what is wrong to ``problems``."""
    stale_after, default_s = _stale_after(document.get("stale_after", {}), problems)
    tables = document.get("band", [])
    if not isinstance(tables, list):
        problems.append("bands are written as [[band]] tables")
        tables = []
    bands: list[Band] = []
    seen: set[tuple[str, str]] = set()
    for index, table in enumerate(tables):
        if not isinstance(table, Mapping):
            problems.append(f"band #{index + 1}: must be a [[band]] table")
            continue
        own: list[str] = []
        band = _band(table, own)
        key = (str(table.get("kind")), str(table.get("metric")))
        name = "/".join(key)
        if key in seen:
            own.append("an earlier band has the same kind and metric; one band per (kind, metric)")
        seen.add(key)
        problems += [f"band {name!r}: {p}" for p in own]
        if band is not None and not own:
            bands.append(band)
    return StatusBands.of(bands, stale_after, default_s)


def _band(table: Mapping[str, Any], problems: list[str]) -> Band | None:
    f = RuleFields(table, problems, set(table))
    kind = f.text("kind", pattern=_NAME, hint="lower_snake_case, as the devices report it")
    metric = f.text("metric", pattern=_NAME, hint="lower_snake_case, as the devices report it")
    warning, critical = f.number("warning"), f.number("critical")
    direction = f.choice("direction", ("above", "below"), default="above")
    alert = f.choice("alert", (CRITICAL, WARNING), default=CRITICAL)
    hold_s = f.duration("for", default=0.0)
    f.duration("keep_firing_for", default=0.0)  # read again by ``band_rules``; checked here
    f.labels()
    f.unused(BAND_FIELDS, None)
    if None not in (warning, critical, direction):
        if direction == "above" and critical < warning:
            problems.append(f"field 'critical': {critical:g} is below warning {warning:g}; with direction = "
                            "\"above\" high values are bad, so critical must be at or above warning")  # fmt: skip
        if direction == "below" and critical > warning:
            problems.append(f"field 'critical': {critical:g} is above warning {warning:g}; with direction = "
                            "\"below\" low values are bad, so critical must be at or below warning")  # fmt: skip
    if problems:
        return None
    return Band(kind, metric, warning, critical, direction == "above", alert, hold_s)


def _stale_after(table: object, problems: list[str]) -> tuple[dict[str, float], float]:
    if not isinstance(table, Mapping):
        problems.append("[stale_after] must be a table of kind = duration (and default = duration)")
        return {}, DEFAULT_STALE_AFTER_S
    by_kind: dict[str, float] = {}
    for kind, value in table.items():
        if kind != "default" and not _NAME.match(kind):
            problems.append(f"[stale_after] {kind!r}: not a device kind (lower_snake_case)")
            continue
        try:
            seconds = duration_s(value)
        except ValueError as bad:
            problems.append(f"[stale_after] {kind!r}: {bad}")
            continue
        if seconds <= 0:
            problems.append(f"[stale_after] {kind!r}: must be longer than zero")
            continue
        by_kind[kind] = seconds
    return by_kind, by_kind.pop("default", DEFAULT_STALE_AFTER_S)


def band_rule_tables(document: Mapping[str, Any], bands: StatusBands) -> list[dict[str, Any]]:
    """Each valid band as the `[[rule]]` table of its device alert: a threshold rule on the device's latest
    reading (``reduce = "last"``) at the band's alert level, held for the band's `for`."""
    tables = document.get("band", [])
    own = {(t.get("kind"), t.get("metric")): t for t in tables if isinstance(t, Mapping)} if isinstance(
        tables, list) else {}  # fmt: skip
    rules = []
    for band in bands.bands.values():
        table = own.get((band.kind, band.metric), {})
        level = band.limit(band.alert_level)
        sign = "≥" if band.above else "≤"
        rules.append({
            "id": band.rule_id, "type": "threshold", "severity": band.alert_level, "match": {"kind": band.kind},
            "metric": band.metric, "subject": "device", "reduce": "last", "window": "1m", "op": band.op,
            "threshold": level, "for": band.hold_s, "labels": table.get("labels", {}),
            "summary": f"{band.metric} at {{subject}} reads {{value:g}}: {band.alert_level} ({sign} {level:g}, band "
                       f"{band.name}) for {_minutes(band.hold_s)}",
            **({"keep_firing_for": table["keep_firing_for"]} if "keep_firing_for" in table else {}),
        })  # fmt: skip
    return rules


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


class StatusFile:
    """The bands of a rules file, re-read when the file changes. A broken edit keeps the last good bands, and a
    file broken from the start gives no bands (every sensor normal or stale, none coloured by a band nobody can
    read); either way the log says what is wrong each time the file changes, as `ioc alerts rules` does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime_ns: int | None = None
        self._said = ""  # the last problem logged, so a missing file is not logged on every build
        self._bands = StatusBands({}, {}, DEFAULT_STALE_AFTER_S)

    def current(self) -> StatusBands:
        """The bands in force."""
        from alerts.rules import RuleError, load_config

        try:
            mtime_ns = self.path.stat().st_mtime_ns
            if mtime_ns != self._mtime_ns:
                self._mtime_ns = mtime_ns  # a broken file is read again only once it changes
                self._bands = load_config(self.path).bands
        except (OSError, RuleError) as bad:
            if str(bad) != self._said:
                self._said = str(bad)
                log.error("status bands of %s not (re)loaded, the maps keep the last good ones: %s", self.path, bad)
        return self._bands
