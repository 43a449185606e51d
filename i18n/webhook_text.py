"""The human line of a webhook message, in the city's language (IOC_DEFAULT_LANGUAGE) and display time zone.

A receiver that posts to a chat room or a pager shows ``data.text`` as it is; machines read the structured
fields beside it, which stay the same in every language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from i18n import formats
from i18n.alert_text import rules_by_id, summary_in
from i18n.catalog import translations
from i18n.districts import district_label
from i18n.mark import N_
from i18n.terms import TERMS

log = logging.getLogger(__name__)
LINES = {
    "alert.firing": N_("[{severity}] Alert #{id} firing: {summary}"),
    "alert.acknowledged": N_("[{severity}] Alert #{id} acknowledged by {actor} at {time}: {summary}"),
    "alert.resolved": N_("[{severity}] Alert #{id} resolved by {actor} at {time}: {summary}"),
}
INCIDENT_LINES = {
    "incident.opened": N_("Incident #{id} opened in {district}: {title}"),
    "incident.closed": N_("Incident #{id} in {district} closed by {actor} at {time}: {title}"),
}


def webhook_text(
    event_type: str,
    alert: Mapping[str, Any],
    change: Mapping[str, Any],
    language: str,
    zone: str,
    rules: Sequence,
    districts: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """One line saying what happened to ``alert``, in ``language`` (pure: every input given)."""
    catalogue = translations(language)
    _ = catalogue.gettext
    severity = TERMS["severity"].get(str(alert.get("severity")))
    at = change.get("at")
    return _(LINES.get(event_type, LINES["alert.firing"])).format(
        severity=_(severity) if severity else alert.get("severity"),
        id=alert.get("id"),
        actor=change.get("actor") or "",
        time=formats.date_time(at, language, zone) if isinstance(at, datetime) else "",
        summary=summary_in(alert, rules_by_id(rules), language, catalogue, districts),
    )


def texter(language: str, zone: str, rules: Callable[[], Sequence],
           districts: Mapping[str, Mapping[str, str]] | None = None) -> Callable[..., str]:  # fmt: skip
    """``webhook_text`` bound to the city's language, zone, rules in force and district names (for the store)."""

    def text(event_type: str, alert: Mapping[str, Any], change: Mapping[str, Any]) -> str:
        try:
            return webhook_text(event_type, alert, change, language, zone, rules(), districts)
        except Exception:  # the line is a courtesy: a rules file mid-edit must not stop the alert being recorded
            log.exception("no webhook text for alert %s", alert.get("id"))
            return ""

    return text


def incident_text(event_type: str, incident: Mapping[str, Any], change: Mapping[str, Any], language: str, zone: str,
                  districts: Mapping[str, Mapping[str, str]] | None = None) -> str:  # fmt: skip
    """One line saying what happened to ``incident``, in ``language`` (pure). The title is the opening alert's
    summary as it was written when it fired."""
    _ = translations(language).gettext
    at = change.get("at")
    district = str(incident.get("district") or "")
    return _(INCIDENT_LINES.get(event_type, INCIDENT_LINES["incident.opened"])).format(
        id=incident.get("id"),
        district=district_label(district, language, districts) if districts else district,
        actor=change.get("actor") or "",
        time=formats.date_time(at, language, zone) if isinstance(at, datetime) else "",
        title=incident.get("title") or "",
    )


def incident_texter(language: str, zone: str,
                    districts: Mapping[str, Mapping[str, str]] | None = None) -> Callable[..., str]:  # fmt: skip
    """``incident_text`` bound to the city's language, zone and district names (for the incident recorder)."""

    def text(event_type: str, incident: Mapping[str, Any], change: Mapping[str, Any]) -> str:
        try:
            return incident_text(event_type, incident, change, language, zone, districts)
        except Exception:  # a courtesy line must never stop the incident being recorded
            log.exception("no webhook text for incident %s", incident.get("id"))
            return ""

    return text
