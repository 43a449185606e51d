#!/usr/bin/env bash
# Re-extract the strings marked with _() / N_() / ngettext() into i18n/locale/ioc.pot and merge them into every
# language's .po (new strings arrive untranslated; tests/unit/test_i18n_catalogues.py then names them).
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
PYTHONPATH=. "$PYBABEL" extract -F i18n/babel.cfg -k N_ -k _ -k ngettext:1,2 --add-comments=alert --no-location --sort-output \
    --project "City IOC" --msgid-bugs-address "https://github.com/city-ioc/ioc/issues" \
    -o i18n/locale/ioc.pot alerts api auth callbacks cities config i18n incidents layouts pages streams app.py
for dir in zh_CN th; do
    po="i18n/locale/$dir/LC_MESSAGES/ioc.po"
    if [[ -f "$po" ]]; then
        "$PYBABEL" update --no-fuzzy-matching --ignore-obsolete -D ioc -i i18n/locale/ioc.pot -d i18n/locale -l "$dir"
    else
        "$PYBABEL" init -D ioc -i i18n/locale/ioc.pot -d i18n/locale -l "$dir"
    fi
done
