"""An alert's summary in a language, written again from what the alert row keeps (rule, subject, value,
threshold, labels), so an officer reading Chinese and a webhook receiver set to Thai each get their own words.

The rules' summary templates (config/alert_rules.toml) are msgids of the catalogue (``i18n.extract`` puts them
there); a status band's device alert and a rule's "held back" alert have templates of their own here. An alert
whose rule is gone, or whose template has no translation, keeps the summary written when it fired.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from i18n import formats
from i18n.districts import district_label
from i18n.mark import N_

HELD_BACK_SUBJECT = "(more subjects)"  # alerts.store.HELD_BACK
BAND_SUMMARY = N_("{metric} at {subject} reads {value}: {severity} ({sign} {threshold}, band {band}) for {hold}")
# A forecast rule's summary placeholders {interval} (80 %: 18–34 minutes) and when the far end is open
INTERVAL = N_("{earliest}–{latest}")
INTERVAL_OPEN = N_("{earliest} or later")
HELD_BACK_SUMMARY = N_("{rule}: {limit} alerts already open; {count} more subjects breaching this rule are counted "
                       "here instead of each opening an alert")  # fmt: skip


class _Blank(dict):
    def __missing__(self, key: str) -> str:  # an unknown placeholder stays visible instead of failing
        return "{" + key + "}"


def summary_in(
    alert: Mapping,
    rules: Mapping[str, object],
    language: str,
    translations: gettext.NullTranslations,
    districts: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """``alert``'s summary in ``language`` (pure: the rules by id, the catalogue and the district names given)."""
    _ = translations.gettext
    terms = _Terms(translations)
    subject = str(alert.get("subject") or "")
    shown_subject = district_label(subject, language, districts) if districts else subject
    value, threshold = alert.get("value"), alert.get("threshold")
    if subject == HELD_BACK_SUBJECT:
        return _(HELD_BACK_SUMMARY).format(rule=alert.get("rule_id"), limit=formats.number(threshold, language),
                                           count=formats.number(value, language))  # fmt: skip
    rule = rules.get(str(alert.get("rule_id")))
    if rule is None or value is None:
        return str(alert.get("summary") or "")
    if getattr(rule, "band", None):
        return _(BAND_SUMMARY).format(
            metric=terms.metric(rule.metric),
            subject=shown_subject,
            value=formats.significant(value, 4, language),
            severity=terms.severity(rule.severity),
            sign="≥" if rule.op.startswith(">") else "≤",
            threshold=formats.significant(threshold if threshold is not None else rule.threshold, 4, language),
            band=rule.band,
            hold=formats.count_of(max(1, round(rule.for_s / 60)), "minute", language),
        )
    template = _(rule.summary)
    if template == rule.summary and language != "en":
        return str(alert.get("summary") or "")
    forecast = _stored_forecast(alert, getattr(rule, "confidence", 0.8))
    words = forecast_words(forecast, language, translations) if forecast is not None else {}
    # Annotations are what a judge added to the summary (an anomaly's usual value, spread and hour).
    values = _Blank({**(alert.get("labels") or {}), **(alert.get("annotations") or {}), **rule.labels,
                     "rule": rule.id, "severity":
                     terms.severity(rule.severity), "subject": shown_subject, "value": value,
                     "threshold": rule.threshold if threshold is None else threshold, **words})  # fmt: skip
    try:
        return template.format_map(values)
    except (ValueError, TypeError, IndexError, KeyError):
        return str(alert.get("summary") or "")


class StoredForecast(NamedTuple):
    """A predicted alert's forecast as its row keeps it (epoch seconds), in the shape ``forecast_words`` reads."""

    made_at: float
    expected: float
    earliest: float
    latest: float | None
    confidence: float


def _stored_forecast(alert: Mapping, confidence: float) -> StoredForecast | None:
    times = [alert.get(k) for k in ("forecast_at", "expected_at", "expected_earliest")]
    if not alert.get("predicted") or not all(isinstance(t, datetime) for t in times):
        return None
    latest = alert.get("expected_latest")
    return StoredForecast(*(t.timestamp() for t in times), latest.timestamp() if isinstance(latest, datetime)
                          else None, confidence)  # fmt: skip


def forecast_words(forecast: Any, language: str, translations: gettext.NullTranslations | None = None
                   ) -> dict[str, str]:  # fmt: skip
    """A forecast summary's placeholders in ``language``: ``expected_in`` ("25 minutes"), ``interval``
    ("18–34 minutes", "18 minutes or later") and ``confidence`` ("80%"), counted from when it was made.
    ``forecast`` has ``made_at``, ``expected``, ``earliest``, ``latest`` (None: open) and ``confidence``."""
    _ = (translations or gettext.NullTranslations()).gettext

    def minutes(at: float) -> int:
        return max(1, round((at - forecast.made_at) / 60))

    earliest = minutes(forecast.earliest)
    if forecast.latest is None:
        interval = _(INTERVAL_OPEN).format(earliest=formats.count_of(earliest, "minute", language))
    else:
        interval = _(INTERVAL).format(earliest=formats.number(earliest, language),
                                      latest=formats.count_of(minutes(forecast.latest), "minute", language))
    return {"expected_in": formats.count_of(minutes(forecast.expected), "minute", language), "interval": interval,
            "confidence": formats.percent(forecast.confidence * 100, language)}  # fmt: skip


class _Terms:
    """The vocabulary words ``i18n.terms`` has, looked up in a given catalogue (no request needed)."""

    def __init__(self, translations: gettext.NullTranslations) -> None:
        from i18n.terms import TERMS  # here, not at the top: i18n.terms imports i18n.current, which imports us

        self._terms, self._ = TERMS, translations.gettext

    def metric(self, metric: str) -> str:
        known = self._terms["metric"].get(metric)
        return self._(known) if known else metric

    def severity(self, severity: str) -> str:
        known = self._terms["severity"].get(severity)
        return self._(known) if known else severity


def rules_by_id(rules: Sequence) -> dict[str, object]:
    """The rules in force by id."""
    return {rule.id: rule for rule in rules}
