"""The dashboard's language per request, ``<html lang>``, the browser's own strings, and the person's choice.

``install`` adds to the Flask server under Dash:

* a first ``before_request``: ``?lang=`` is checked (an unknown language is a 400 with the reason); the language
  itself is decided when first asked for (``i18n.current``), once the gate knows who is asking;
* an ``after_request`` that remembers a valid ``?lang=`` in a session cookie, so the callbacks and the pages
  this browser opens next speak it too;
* the page HTML with ``<html lang=…>`` and the strings ``assets/*.js`` show, as a JSON data block;
* ``POST /language``: a signed-in person stores their language (audited), which clears the cookie.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import flask
from dash import Dash

from auth.web import current_principal, safe_next
from i18n import choice
from i18n.current import DISTRICTS, RESOLVER, RULES, _, language
from i18n.preference import set_own_language
from i18n.script_strings import SCRIPT_STRINGS

LANGUAGE_COOKIE = "ioc_lang"
_HTML_TAG = re.compile(r"<html[^>]*>")


def resolve(default: str, zone: str) -> str:
    """This request's language from its URL, cookie, principal and the default (``i18n.choice``)."""
    request = flask.request
    try:
        url = choice.url_override(request.args.get("lang"))
    except choice.UnknownLanguage:
        url = None
    principal = flask.g.get("principal")
    own = principal.language if principal is not None else None
    flask.g.display_zone = zone
    return choice.choose(url, request.cookies.get(LANGUAGE_COOKIE), own, default)


def _check_url() -> flask.Response | None:
    try:
        choice.url_override(flask.request.args.get("lang"))
    except choice.UnknownLanguage as unknown:
        response = flask.jsonify({"error": "bad_request", "message": f"Refused: {unknown}."})
        response.status_code = 400
        return response
    return None


def _remember_url(response: flask.Response) -> flask.Response:
    asked = flask.request.args.get("lang")
    wanted = choice.url_override(asked) if asked and response.status_code < 400 else None
    if wanted and flask.request.cookies.get(LANGUAGE_COOKIE) != wanted:
        # A session cookie, no max-age: the override lasts while the browser is open.
        response.set_cookie(LANGUAGE_COOKIE, wanted, httponly=True, samesite="Lax", path="/")
    return response


def html_with_language(page: str, lang: str) -> str:
    """The page with ``<html lang=…>`` and the browser-side strings in ``lang`` (a JSON data block, not a script
    the Content-Security-Policy would have to allow)."""
    strings = json.dumps({key: _(text) for key, text in SCRIPT_STRINGS.items()}, ensure_ascii=False)
    strings = strings.replace("</", "<\\/")  # a translation can never end the block early
    block = f'<script type="application/json" id="ioc-i18n">{strings}</script>'
    page = _HTML_TAG.sub(f'<html lang="{lang}">', page, count=1)
    return page.replace("</head>", block + "</head>", 1)


def install(app: Dash, services) -> None:
    """Choose a language for every request of ``app``; see the module's docstring."""
    settings = services.settings
    server = app.server
    server.extensions[RESOLVER] = lambda: resolve(settings.default_language, settings.display_zone)
    server.extensions[DISTRICTS] = settings.districts_geojson
    server.extensions[RULES] = services.alert_rules
    server.before_request_funcs.setdefault(None, []).insert(0, _check_url)
    server.after_request(_remember_url)
    interpolate = app.interpolate_index

    def interpolate_index(**parts: str) -> str:
        return html_with_language(interpolate(**parts), language())

    app.interpolate_index = interpolate_index

    @server.post("/language")
    def choose_language():  # the header's chooser: the gate let a signed-in principal through, same-origin
        wanted = flask.request.form.get("language", "")[:16]
        message = set_own_language(services.pool.connection, current_principal(), wanted)
        if message is not None:
            return flask.jsonify({"error": "bad_request", "message": message}), 400
        response = flask.redirect(safe_next(back_to(flask.request.referrer)), 303)
        response.delete_cookie(LANGUAGE_COOKIE, path="/")
        return response


def back_to(referrer: str | None) -> str:
    """The page a chooser was pressed on (its path and query without ``lang``), to go back to after storing."""
    if not referrer:
        return "/"
    parts = urlsplit(referrer)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "lang"])
    return parts.path + (f"?{query}" if query else "")
