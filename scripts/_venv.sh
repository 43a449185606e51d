# Sourced by scripts/run.sh and scripts/test.sh (from the repo root): the project's virtualenv, made once and
# reinstalled only when pyproject.toml changed since the last install, so a second run starts at once.

ensure_venv() {
    local stamp=.venv/.pyproject.sha256 want
    if [[ ! -x .venv/bin/python ]]; then
        echo "creating .venv (python3.11)" >&2
        python3.11 -m venv .venv
    fi
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
        echo "installing the project into .venv (pyproject.toml changed)" >&2
        .venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
        # Written last: an interrupted install leaves no stamp and is redone next time.
        echo "$want" > "$stamp"
    fi
}
