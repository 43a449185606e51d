#!/usr/bin/env bash
# The README's test command: services up, then pytest against the `<database>_test` database.
# Arguments go to pytest (scripts/test.sh tests/unit -q); the exit code is pytest's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_venv.sh

ensure_venv
.venv/bin/ioc services up

# The browser tests drive Debian's Chromium; a test tool's own browser download cannot work here.
# The pages speak Chinese and Thai too (docs/LANGUAGES.md): without CJK and Thai fonts the screenshots show empty
# boxes. fonts-thai-tlwg is Debian's Thai set (Loma, Garuda, Sarabun …), small beside fonts-noto-core.
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver || ! -d /usr/share/fonts/opentype/noto
      || ! -d /usr/share/fonts/truetype/tlwg ]]; then
    if [[ $(id -u) -eq 0 && -f /etc/debian_version ]]; then
        echo "installing Debian's chromium, chromium-driver, fonts-noto-cjk and fonts-thai-tlwg for the browser tests" >&2
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-noto-cjk \
            fonts-thai-tlwg >/dev/null
    else
        echo "warning: install Debian's chromium, chromium-driver, fonts-noto-cjk and fonts-thai-tlwg (as root)" \
             "for the browser tests" >&2
    fi
fi

# promtool checks the metrics text every process serves (tests/integration/scrape.py). It comes from Debian's
# `prometheus` package; only its promtool is taken (a static binary, to /usr/local/bin), so installing it never
# starts a Prometheus server. Without it the metrics tests skip the check, saying so.
if ! command -v promtool >/dev/null; then
    if [[ $(id -u) -eq 0 && -f /etc/debian_version ]]; then
        echo "installing promtool from Debian's prometheus package (the metrics tests)" >&2
        apt-get update -q >/dev/null
        deb_dir=$(mktemp -d)
        (cd "$deb_dir" && apt-get download -q prometheus >/dev/null 2>&1) \
            && dpkg-deb -x "$deb_dir"/prometheus_*.deb "$deb_dir/root" \
            && install -m 0755 "$deb_dir/root/usr/bin/promtool" /usr/local/bin/promtool \
            || echo "warning: promtool could not be installed; the metrics tests will skip its check" >&2
        rm -rf "$deb_dir"
    else
        echo "warning: install Debian's prometheus package (as root) for promtool in the metrics tests" >&2
    fi
fi

# axe-core, which the accessibility tests inject into every page: pinned in package-lock.json.
if [[ ! -f node_modules/axe-core/axe.min.js || package-lock.json -nt node_modules/.package-lock.json ]]; then
    if command -v npm >/dev/null; then
        npm ci --no-audit --no-fund --silent >&2
    else
        echo "warning: npm is missing; the accessibility tests will be skipped" >&2
    fi
fi

# Tests write only to the _test twin of the configured database, never to the one the dashboard shows.
IOC_DATABASE_URL=$(.venv/bin/python -c 'from infra.services_plan import database_url_for_tests
from settings import load_settings
print(database_url_for_tests(load_settings().database_url))')
export IOC_DATABASE_URL
echo "testing against $IOC_DATABASE_URL" >&2
exec .venv/bin/pytest "$@"
