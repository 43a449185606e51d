"""Numbers, percentages, units, dates, times and durations in a language, by Babel from the CLDR (pure).

Every function takes the language code (``i18n.languages``) and, for times, the display time zone; an en dash
stands for a missing value in every language.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_datetime, format_skeleton, format_timedelta, get_datetime_format
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit, get_unit_name

from i18n.languages import babel_locale

MISSING = "–"
# Our unit spellings → CLDR unit ids; a unit the CLDR lacks (µg/m³, PUE's none) is written as it is.
CLDR_UNITS = {
    "kW": "power-kilowatt",
    "kWh": "energy-kilowatt-hour",
    "MW": "power-megawatt",
    "°C": "temperature-celsius",
    "h": "duration-hour",
    "min": "duration-minute",
    "s": "duration-second",
    "dB": "",  # decibels read the same in every language here
}


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def number(value: float | None, language: str, decimals: int = 0) -> str:
    """``12,345`` / ``1.27`` with the language's separators."""
    if value is None:
        return MISSING
    return format_decimal(round(value, decimals), _pattern(decimals), locale=babel_locale(language))


def percent(value_pct: float | None, language: str, decimals: int = 0) -> str:
    """A share given in percent (``87.3`` → ``87.3%``), written the language's way."""
    if value_pct is None:
        return MISSING
    return format_percent(value_pct / 100, _pattern(decimals) + "%", locale=babel_locale(language))


def unit(value: float | None, unit_name: str, language: str, decimals: int = 0) -> str:
    """``12.5 kW`` / ``12.5千瓦`` / ``25.3°C``; a unit the CLDR does not know follows the number as written."""
    if value is None:
        return MISSING
    cldr = CLDR_UNITS.get(unit_name)
    if cldr:
        text = format_decimal(round(value, decimals), _pattern(decimals), locale=babel_locale(language))
        return format_unit(text, cldr, length="short", locale=babel_locale(language))
    written = number(value, language, decimals)
    return f"{written} {unit_name}".strip()


def unit_label(unit_name: str, language: str) -> str:
    """A unit's short name on its own (a table header, an axis): ``kW`` / ``千瓦`` / ``กิโลวัตต์``."""
    cldr = CLDR_UNITS.get(unit_name)
    if not cldr:
        return unit_name
    return get_unit_name(cldr, length="short", locale=babel_locale(language)) or unit_name


def clock(moment: datetime, language: str, zone: str) -> str:
    """The time of day, 24-hour with seconds, in ``zone``."""
    return format_skeleton("Hms", moment, tzinfo=zone, locale=babel_locale(language))


def clock_minutes(moment: datetime, language: str, zone: str) -> str:
    """The time of day, 24-hour, to the minute, in ``zone`` (the wall's clock)."""
    return format_skeleton("Hm", moment, tzinfo=zone, locale=babel_locale(language))


def date_time(moment: datetime | None, language: str, zone: str) -> str:
    """Date and time to the second, in ``zone``: ``Dec 1, 2026, 11:18:35`` / ``2026年12月1日 11:18:35``."""
    if moment is None:
        return MISSING
    return _joined(moment, "yMMMd", "Hms", language, zone)


def short_date_time(moment: datetime | None, language: str, zone: str) -> str:
    """Month, day and time to the minute, in ``zone`` (tables): ``Dec 1, 11:18`` / ``12月1日 11:18``."""
    if moment is None:
        return MISSING
    return _joined(moment, "MMMd", "Hm", language, zone)


def _joined(moment: datetime, date_skeleton: str, time_skeleton: str, language: str, zone: str) -> str:
    # The CLDR has no 24-hour date-and-time skeleton in every locale: date and time apart, joined its way.
    locale = babel_locale(language)
    date = format_skeleton(date_skeleton, moment, tzinfo=zone, locale=locale)
    time = format_skeleton(time_skeleton, moment, tzinfo=zone, locale=locale)
    return get_datetime_format("medium", locale=locale).replace("{1}", date).replace("{0}", time)


def day(moment: datetime, language: str, zone: str) -> str:
    """A calendar day (charts by day): ``Dec 1`` / ``12月1日`` / ``1 ธ.ค.``."""
    return format_skeleton("MMMd", moment, tzinfo=zone, locale=babel_locale(language))


def duration(span: timedelta, language: str, narrow: bool = False) -> str:
    """``3 minutes`` / ``3分钟`` / ``3 นาที`` (rounded the CLDR's way); ``narrow``: ``3m`` / ``3分钟`` / ``3น.``."""
    return format_timedelta(span, threshold=1.5, format="narrow" if narrow else "long",
                            locale=babel_locale(language))  # fmt: skip


def ahead(span: timedelta, language: str) -> str:
    """A time still to come, counted from now: ``in 25 minutes`` / ``25分钟后`` / ``ในอีก 25 นาที`` (CLDR)."""
    return format_timedelta(span, threshold=2, granularity="minute", add_direction=True, locale=babel_locale(language))


def count_of(amount: int, unit_name: str, language: str) -> str:
    """A whole number of ``second``, ``minute``, ``hour`` or ``day`` in words: ``1 minute``, ``45分钟``."""
    return format_unit(amount, f"duration-{unit_name}", length="long", locale=babel_locale(language))


def format_in(moment: datetime, pattern: str, language: str, zone: str) -> str:
    """``moment`` in ``zone`` by a CLDR pattern (``yyyy-MM-dd HH:mm``: for columns sorted as text)."""
    return format_datetime(moment, pattern, tzinfo=zone, locale=babel_locale(language))


def significant(value: float | None, digits: int, language: str) -> str:
    """``value`` to at most ``digits`` significant digits (``1,234``, ``0.0123``, ``1.27``)."""
    if value is None:
        return MISSING
    return format_decimal(value, "@" + "#" * (digits - 1), locale=babel_locale(language))
