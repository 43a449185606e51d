"""The language and time zone of the request being answered, and shortcuts that use them.

``i18n.web`` sets both on ``flask.g`` for every request; outside a request (a unit test of a builder, the CLI)
the text is English and times are UTC. Layouts and callbacks call ``_`` and the formatters here; code that
knows its language some other way (webhooks) calls ``i18n.formats`` and ``i18n.catalog`` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import flask

from i18n import formats
from i18n.alert_text import rules_by_id, summary_in
from i18n.catalog import translations
from i18n.districts import district_label, district_names
from i18n.languages import ENGLISH
from i18n.mark import N_

__all__ = ["N_", "_", "language", "zone"]

RESOLVER = "ioc_i18n"  # the Flask extension key i18n.web installs its resolver under
DISTRICTS = "ioc_i18n_districts"  # … and the district GeoJSON's path
RULES = "ioc_i18n_rules"  # … and a function giving the alert rules in force
log = logging.getLogger(__name__)


def language() -> str:
    """The language code of this request (``en`` outside one, or in an app without ``i18n.web``).

    Decided on first use and kept once the gate has named the principal (before that, on the sign-in page or a
    refusal, only the URL, the cookie and the default count)."""
    if not flask.has_request_context():
        return ENGLISH
    known = flask.g.get("language")
    if known:
        return known
    resolver = flask.current_app.extensions.get(RESOLVER)
    if resolver is None:
        return ENGLISH
    chosen = resolver()
    if flask.g.get("principal") is not None:
        flask.g.language = chosen
    return chosen


def zone() -> str:
    """The display time zone of this request (``UTC`` outside one)."""
    if not flask.has_request_context():
        return "UTC"
    if not flask.g.get("display_zone"):
        language()  # the resolver sets the zone with the language
    return flask.g.get("display_zone") or "UTC"


def _(message: str) -> str:
    """``message`` in this request's language (itself when the catalogue lacks it)."""
    return translations(language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form for ``count`` in this request's language."""
    return translations(language()).ngettext(singular, plural, count)


def number(value: float | None, decimals: int = 0) -> str:
    return formats.number(value, language(), decimals)


def percent(value_pct: float | None, decimals: int = 0) -> str:
    return formats.percent(value_pct, language(), decimals)


def unit(value: float | None, unit_name: str, decimals: int = 0) -> str:
    return formats.unit(value, unit_name, language(), decimals)


def unit_label(unit_name: str) -> str:
    return formats.unit_label(unit_name, language())


def clock(moment: datetime) -> str:
    return formats.clock(moment, language(), zone())


def date_time(moment: datetime | None) -> str:
    return formats.date_time(moment, language(), zone())


def short_date_time(moment: datetime | None) -> str:
    return formats.short_date_time(moment, language(), zone())


def duration(span: timedelta, narrow: bool = False) -> str:
    return formats.duration(span, language(), narrow)


def lead_time(minutes: int | None) -> str:
    """How long until a predicted alert's level is expected: ``in 25 minutes``, or ``due now`` once it is."""
    if not minutes or minutes <= 0:
        return _("due now")
    return formats.ahead(timedelta(minutes=minutes), language())


def page_title(name: str):
    """A page's browser title in the request's language (``register_page(title=…)`` takes a function)."""

    def title(**_query: str) -> str:
        return f"IOC · {_(name)}"

    return title


def district(code_or_name: str) -> str:
    """A district's name in this request's language (``i18n.districts``; the id outside a request)."""
    if not flask.has_request_context():
        return code_or_name
    path = flask.current_app.extensions.get(DISTRICTS)
    if path is None:
        return code_or_name
    return district_label(code_or_name, language(), district_names(str(path)))


def count_of(amount: int, unit_name: str) -> str:
    return formats.count_of(amount, unit_name, language())


def significant(value: float | None, digits: int = 4) -> str:
    return formats.significant(value, digits, language())


def alert_summary(alert: Mapping) -> str:
    """An alert's summary in this request's language (``i18n.alert_text``); the stored one outside a request."""
    if not flask.has_request_context() or RULES not in flask.current_app.extensions:
        return str(alert.get("summary") or "")
    rules = flask.g.get("ioc_rules_by_id")
    if rules is None:  # once per request: a console page writes a hundred summaries
        try:
            rules = rules_by_id(flask.current_app.extensions[RULES]())
        except Exception:  # a rules file being edited: the summary written when the alert fired still reads
            log.exception("the alert rules could not be read for a summary in %s", language())
            return str(alert.get("summary") or "")
        flask.g.ioc_rules_by_id = rules
    path = flask.current_app.extensions.get(DISTRICTS)
    names = district_names(str(path)) if path else None
    return summary_in(alert, rules, language(), translations(language()), names)
