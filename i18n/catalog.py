"""The gettext catalogues: ``locale/<dir>/LC_MESSAGES/ioc.po`` in the repository, compiled when first used.

The ``.po`` files are the source; nothing compiled is committed. Each process compiles a catalogue once, in
memory, with Babel's own reader and ``.mo`` writer, and keeps the ``gettext`` translations it gives: a fresh clone
works with no build step, and a translator's edit is seen on the next start.
"""

from __future__ import annotations

import functools
import gettext
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from i18n.languages import BABEL_LOCALES, CATALOG_DIRS

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "ioc"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"


def po_path(language: str) -> Path:
    """Where the ``.po`` catalogue of ``language`` lives."""
    return LOCALE_DIR / CATALOG_DIRS[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path, language: str | None = None) -> Catalog:
    """A ``.po`` or ``.pot`` file as Babel's catalogue."""
    with path.open("rb") as handle:
        return read_po(handle, locale=BABEL_LOCALES.get(language or "", None), domain=DOMAIN)


@functools.cache  # three languages at most: one compiled catalogue each per process
def translations(language: str) -> gettext.NullTranslations:
    """The compiled translations of ``language``; English (and any language without a catalogue) is the msgids."""
    if language not in CATALOG_DIRS:
        return gettext.NullTranslations()
    compiled = BytesIO()
    write_mo(compiled, read_catalog(po_path(language), language), use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def untranslated(language: str) -> list[str]:
    """The msgids of the template that ``language``'s catalogue has no (or only a fuzzy) translation for."""
    catalog = read_catalog(po_path(language), language)
    wanted = [m.id for m in read_catalog(TEMPLATE) if m.id]
    done = {m.id for m in catalog if m.id and m.string and not m.fuzzy and _complete(m.string)}
    return [msgid if isinstance(msgid, str) else msgid[0] for msgid in wanted if msgid not in done]


def _complete(string: str | tuple) -> bool:
    return all(string) if isinstance(string, tuple) else bool(string)
