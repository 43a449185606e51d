"""The languages the IOC speaks, by the code a URL, a stored choice or a setting names them with."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

ENGLISH = "en"
# code → the language's name in itself (how a chooser lists it, whatever the page's language)
LANGUAGES: dict[str, str] = {"en": "English", "zh-CN": "简体中文", "th": "ไทย"}
# code → the Babel locale of its numbers and dates, and the gettext catalogue directory
BABEL_LOCALES: dict[str, str] = {"en": "en", "zh-CN": "zh_Hans_CN", "th": "th_TH"}
CATALOG_DIRS: dict[str, str] = {"zh-CN": "zh_CN", "th": "th"}
# Spellings people and browsers use for the same languages.
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "en-us": "en", "en-gb": "en",
            "th-th": "th"}  # fmt: skip


def parse_language(raw: object) -> str | None:
    """The code of a language the IOC speaks named by ``raw`` (``zh-cn``, ``zh_CN``, ``TH`` …), else None."""
    if not isinstance(raw, str) or not 1 < len(raw) <= 16:
        return None
    key = raw.strip().replace("_", "-").lower()
    code = _ALIASES.get(key, key)
    return next((known for known in LANGUAGES if known.lower() == code.lower()), None)


def babel_locale(language: str) -> Locale:
    """The Babel locale numbers and dates of ``language`` are written in (English for an unknown code)."""
    return Locale.parse(BABEL_LOCALES.get(language, "en"))


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is a time zone of the IANA database this process has."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
