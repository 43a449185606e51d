"""Which language a request is answered in (pure): the URL's override, then the person's or display's own
choice, then the city's default (docs/LANGUAGES.md, "How a language is chosen")."""

from __future__ import annotations

from i18n.languages import parse_language


class UnknownLanguage(ValueError):
    """``?lang=`` named a language the IOC does not speak; the request is refused with this reason."""


def url_override(raw: str | None) -> str | None:
    """The language ``?lang=`` asks for (None when absent or empty); ``UnknownLanguage`` when it names none."""
    if raw is None or raw == "":
        return None
    language = parse_language(raw)
    if language is None:
        raise UnknownLanguage("lang is one of en, zh-CN, th")
    return language


def choose(url: str | None, remembered: str | None, own: str | None, default: str) -> str:
    """The first of: ``?lang=`` on this request, the ``?lang=`` this browser used earlier in its session (a
    cookie), the signed-in person's stored choice or the display token's language, the city's default.

    ``remembered`` and ``own`` come from a cookie and a database column: anything unknown there is passed over.
    """
    for candidate in (url, parse_language(remembered), parse_language(own)):
        if candidate:
            return candidate
    return parse_language(default) or "en"
