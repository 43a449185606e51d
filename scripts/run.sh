#!/usr/bin/env bash
# The README's run command: the whole IOC on this machine, fed by the simulated city.
# Services up, migrations, history (once), then ingest (2 workers), alerting, the simulator and the dashboard together until Ctrl-C or
# until one of them exits; then all of them are stopped. Safe to run again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/_venv.sh

ensure_venv
.venv/bin/ioc services up
.venv/bin/ioc migrate
# No default password: on an empty database the demo gets one admin with a random password, printed once here.
.venv/bin/ioc users add admin --role admin --full-name "IOC administrator" --generate --if-no-accounts

url=$(.venv/bin/python -c 'from settings import load_settings
s = load_settings()
print(f"http://{s.http_host}:{s.http_port}/")')
host_port=${url#http://}
host_port=${host_port%/}
if (exec 3<>"/dev/tcp/${host_port%:*}/${host_port##*:}") 2>/dev/null; then
    echo "something already answers at $url (another scripts/run.sh?); stop it first" >&2
    exit 1
fi

# A believable first look: days of simulated history straight into TimescaleDB (IOC_BACKFILL_DAYS, default 7;
# 0 = none), so every chart and "vs yesterday" has data from the first page view. Only what is missing is
# written: a second run finds the history and goes on at once.
.venv/bin/ioc simulate backfill

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo "stopping ingest, alerting, simulator and dashboard" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    # Ingest workers finish the batch in hand on SIGTERM; give them 30 s, then stop each whole process group.
    local deadline=$((SECONDS + 30)) pid
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    done
    for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

# setsid: each in its own process group (leader pid = $!), so stop_all can reach gunicorn's and ingest's
# worker processes too. A background job of a script is never a group leader, so setsid execs without forking.
setsid .venv/bin/ioc ingest --workers 2 & pids+=($!)
setsid .venv/bin/ioc alerts run & pids+=($!)
setsid .venv/bin/ioc simulate & pids+=($!)
setsid .venv/bin/ioc serve & pids+=($!)
echo "dashboard: $url   (Ctrl-C stops everything)" >&2

status=0
wait -n "${pids[@]}" || status=$?
echo "a process exited (status $status)" >&2
exit "$status"
