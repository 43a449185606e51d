"""The first run, as `scripts/run.sh` does it, on a fresh schema: `ioc simulate backfill` writes a week of
history (a second run writes nothing), the live simulator and ingest take over, and in a real browser History
and Data centres show at least six days of data and the overview's KPI tiles compare with yesterday.

The city is small and its history coarse (IOC_BACKFILL_INTERVAL_S) so the week is written in seconds; the
path is the one a new user takes.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

import bootstrap
from layouts.live import KPIS
from settings import Settings
from tests.e2e.conftest import _page, settle
from tests.integration.conftest import wait_until
from tests.isolation import isolated
from tests.served import REPO, Served, add_accounts, child_env, free_port

pytestmark = pytest.mark.e2e

FIRST_RUN = {
    "sim_sensors": 120, "sim_readings_per_s": 20.0, "sim_complaints_per_hour": 120.0,
    "backfill_days": 7.0, "backfill_interval_s": 1800.0, "backfill_live_rate_min": 15.0,
}  # fmt: skip
WAIT_S = 60
COMPARED_KPIS = ("devices_online_pct", "readings_per_min", "complaints_today", "complaints_open", "pue_now",
                 "pue_24h")  # fmt: skip


def ioc(settings: Settings, *args: str, timeout: float = 600) -> str:
    """Run ``ioc ARGS`` as scripts/run.sh does (a child process with the settings' environment); its output."""
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=child_env(settings),
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip
    assert done.returncode == 0, f"ioc {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> Iterator[tuple[Served, dict]]:
    """A fresh schema taken through the first-run path, the live city running, the dashboard served."""
    with isolated(Settings(), http_port=free_port(), ingest_block_ms=50, **FIRST_RUN) as settings:
        said = {"first": ioc(settings, "simulate", "backfill"), "second": ioc(settings, "simulate", "backfill")}
        accounts = add_accounts(settings)
        stop = threading.Event()
        worker = bootstrap.ingest_worker(settings, consumer="first-run-0")
        ingest = threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True)
        ingest.start()
        log = tmp_path_factory.mktemp("first-run")
        live = subprocess.Popen([sys.executable, "-m", "cli.main", "simulate", "--duration-s", "900"], cwd=REPO,
                                env=child_env(settings), stdout=open(log / "simulate.log", "wb"),  # noqa: SIM115
                                stderr=subprocess.STDOUT)  # fmt: skip
        server = Served(settings, log / "gunicorn.log")
        server.start()
        try:
            yield server, {"accounts": accounts, "said": said}
        finally:
            server.stop()
            live.terminate()
            live.wait(timeout=20)
            stop.set()
            ingest.join(timeout=10)


def test_backfill_writes_the_week_once(first_run):
    _, info = first_run
    assert "backfill: 7.00 days" in info["said"]["first"]
    assert "nothing to do" in info["said"]["second"]


def _days_drawn(page, graph_id: str) -> float:
    """How many days the x values of a drawn plotly figure span (read from the figure in the page)."""
    xs = page.evaluate(
        "id => { const g = document.querySelector('#' + id + ' .js-plotly-plot');"
        " return g && g.data ? g.data.flatMap(t => t.x || []) : []; }",
        graph_id,
    )
    times = [datetime.fromisoformat(x) for x in xs if isinstance(x, str)]
    return (max(times) - min(times)) / timedelta(days=1) if times else 0.0


def _choose_week(page, range_id: str) -> None:
    page.locator(f"#{range_id} label", has_text="7 d").click()


def test_history_and_data_centres_show_the_week_and_the_tiles_compare_with_yesterday(first_run, browser):
    server, info = first_run
    context, page = _page(browser, 1440, 900, (server.url, info["accounts"]["viewer"]))
    page.set_default_timeout(WAIT_S * 1000)  # the live city, ingest and gunicorn share two busy cores
    try:
        page.goto(server.url + "/history")
        page.wait_for_selector("#history-chart .legendtext")
        _choose_week(page, "history-range")
        wait_until(lambda: _days_drawn(page, "history-chart") >= 6, timeout=WAIT_S, what="a week on History")
        title = page.locator("#history-chart .gtitle").text_content()
        assert "collecting" not in title

        page.goto(server.url + "/datacenters")
        page.wait_for_selector("#datacenters-pue .legendtext")
        _choose_week(page, "datacenters-range")
        for graph in ("datacenters-pue", "datacenters-power", "datacenters-inlet"):
            wait_until(lambda g=graph: _days_drawn(page, g) >= 6, timeout=WAIT_S, what=f"a week on {graph}")

        page.goto(server.url + "/")
        for key in COMPARED_KPIS:
            label = page.locator(".kpi-label", has_text=KPIS[key].label)
            tile = page.locator(".kpi", has=label).first.locator(".kpi-trend")
            wait_until(lambda t=tile: "yesterday" in (t.inner_text() or ""), timeout=WAIT_S, what=f"{key} tile")
            said = tile.inner_text()
            assert "vs yesterday" in said or "same time yesterday" in said, f"{key}: {said!r}"
            assert "nothing recorded" not in said
        settle(page)
        assert page.console.errors == []
    finally:
        context.close()
