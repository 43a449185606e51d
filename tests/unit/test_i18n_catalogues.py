"""The catalogues: every string the code marks is in the template, and translated into Chinese and Thai with the
same placeholders (a missing or broken translation fails here, not on a page)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from i18n.catalog import TEMPLATE, read_catalog, translations, untranslated
from i18n.languages import CATALOG_DIRS
from i18n.script_strings import SCRIPT_STRINGS
from i18n.terms import TERMS

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]*(?::[^}]*)?\}|%\{[^}]+\}")


def _template_ids() -> set[str]:
    return {m.id for m in read_catalog(TEMPLATE) if m.id}


@pytest.mark.parametrize("language", sorted(CATALOG_DIRS))
def test_every_string_has_a_translation(language):
    missing = untranslated(language)
    assert not missing, f"translate these in i18n/locale/{CATALOG_DIRS[language]}/LC_MESSAGES/ioc.po: {missing}"


@pytest.mark.parametrize("language", sorted(CATALOG_DIRS))
def test_translations_keep_every_placeholder(language):
    catalogue = translations(language)
    broken = [
        msgid
        for msgid in _template_ids()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(catalogue.gettext(msgid)))
    ]
    assert not broken, f"{language}: placeholders differ in {broken}"


def test_the_template_holds_every_string_the_code_marks(tmp_path):
    """What `i18n/update_catalogues.sh` would extract now is what the committed template has."""
    pybabel = shutil.which("pybabel", path=str(Path(sys.executable).parent))
    assert pybabel, "Babel's pybabel comes with the project's dependencies"
    fresh = tmp_path / "fresh.pot"
    sources = ["alerts", "api", "auth", "callbacks", "cities", "config", "i18n", "incidents", "layouts", "pages",
               "streams", "app.py"]  # fmt: skip
    subprocess.run([pybabel, "-q", "extract", "-F", "i18n/babel.cfg", "-k", "N_", "-k", "_", "-k", "ngettext:1,2",
                    "-o", str(fresh), *sources], cwd=ROOT, check=True,
                   env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})  # fmt: skip
    extracted = {m.id for m in read_catalog(fresh) if m.id}
    assert extracted == _template_ids(), (
        f"run i18n/update_catalogues.sh: new {sorted(extracted - _template_ids())}, "
        f"gone {sorted(_template_ids() - extracted)}"
    )


def test_vocabularies_and_browser_strings_are_in_the_template():
    ids = _template_ids()
    words = {word for vocabulary in TERMS.values() for word in vocabulary.values()}
    assert words <= ids and set(SCRIPT_STRINGS.values()) <= ids


def test_operational_terms_are_the_same_word_everywhere():
    zh, th = translations("zh-CN").gettext, translations("th").gettext
    assert zh("Acknowledge") == "确认" and zh("acknowledged") == "已确认" and zh("Alerts") == "告警"
    assert th("Acknowledge") == "รับทราบ" and th("acknowledged") == "รับทราบแล้ว" and th("Alerts") == "การแจ้งเตือน"
    assert zh("Sensors") == "传感器" and th("Sensors") == "เซนเซอร์"
    assert zh("Data centres") == "数据中心" and th("Data centres") == "ศูนย์ข้อมูล"
    assert zh("PUE") == th("PUE") == "PUE"
