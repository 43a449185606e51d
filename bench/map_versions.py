"""The map's first clusters for several versions of the code, interleaved on one seeded city.

    .venv/bin/python bench/map_versions.py [--sensors 50000] [--loads 12] [--path /map] [--selector .status-cluster] \\
        CHECKOUT [CHECKOUT ...]

Each CHECKOUT is a directory holding a version of this repository (``git worktree add /tmp/before <commit>``);
all are served by this repository's Python environment, one ``gunicorn app:server`` each, from their own code,
against one schema seeded once, so every version answers from the same data. Versions are then opened in turn, a
new browser context (empty cache) each time, the order reversed every other round, so a change in the machine's
load over the run falls on every version alike. Reported per version, on the page's own clock
(bench/page_clock.py): the median, lowest and highest time to the first ``--selector`` on screen, and the median
DOMContentLoaded. The time between two versions' figures on a shared machine is what bench/map.py cannot give.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import uuid
from pathlib import Path

import psycopg
from playwright.sync_api import sync_playwright
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
import tests.served  # noqa: E402
from bench import page_clock  # noqa: E402
from bench.map import signed_in_page  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.e2e.city_seed import seed_city  # noqa: E402
from tests.e2e.conftest import CHROMIUM  # noqa: E402
from tests.served import Served, add_accounts, free_port  # noqa: E402

DOM_READY = "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd / 1000"


def serve(checkout: Path, settings: Settings, log: Path) -> Served:
    """``gunicorn app:server`` run from ``checkout``'s code on a port of its own."""
    tests.served.REPO = checkout  # Served starts gunicorn in REPO
    server = Served(settings.model_copy(update={"http_port": free_port()}), log)
    server.start()
    return server


def one_load(browser, url: str, storage_state: dict, selector: str) -> tuple[float, float]:
    """Seconds to the first ``selector`` on screen and to DOMContentLoaded, a new context signed in already."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, storage_state=storage_state)
    page_clock.watch(context, [selector])
    page = context.new_page()
    page.goto(url, wait_until="commit")
    shown = page_clock.shown_after(page, selector)
    dom_ready = page.evaluate(DOM_READY)
    context.close()
    return shown, dom_ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", type=Path, nargs="+")
    parser.add_argument("--sensors", type=int, default=50_000)
    parser.add_argument("--loads", type=int, default=12)
    parser.add_argument("--path", default="/map")
    parser.add_argument("--selector", default=".status-cluster")
    parser.add_argument("--log", type=Path, default=Path("/tmp/bench-map-versions-gunicorn.log"))
    args = parser.parse_args()
    base = Settings()
    tag = uuid.uuid4().hex[:8]
    settings = base.model_copy(update={
        "db_schema": f"bench_{tag}", "consumer_group": f"bench{tag}", "stream_iot": f"bench{tag}:iot",
        "stream_complaints": f"bench{tag}:complaints", "stream_datacenter": f"bench{tag}:datacenter",
        "stream_deadletter": f"bench{tag}:deadletter", "live_max_sensors": max(args.sensors, base.live_max_sensors),
    })  # fmt: skip
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    seed_city(settings, sensors=args.sensors)
    add_accounts(settings)
    servers: list[Served] = []
    try:
        servers = [serve(checkout.resolve(), settings, args.log) for checkout in args.checkouts]
        loads: dict[int, list[tuple[float, float]]] = {n: [] for n in range(len(servers))}
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            states = []
            for server in servers:  # one sign-in each (a sign-in per load would meet the rate limit), and a warm-up
                page = signed_in_page(browser, server.url)
                page.goto(server.url + args.path)
                page.wait_for_selector(args.selector, timeout=120_000)
                states.append(page.context.storage_state())
                page.context.close()
            for round_ in range(args.loads):
                order = list(range(len(servers)))[:: -1 if round_ % 2 else 1]
                for n in order:
                    loads[n].append(one_load(browser, servers[n].url + args.path, states[n], args.selector))
            browser.close()
    finally:
        for server in servers:
            server.stop()
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))
    print(f"{args.path} at {args.sensors:,} sensors, {args.loads} cold loads each, page clock")
    print(f"{'checkout':40} {'first ' + args.selector + ' median':>28} {'min':>6} {'max':>6} {'DOMContentLoaded':>17}")
    for n, checkout in enumerate(args.checkouts):
        shown = [s for s, _ in loads[n]]
        print(f"{str(checkout):40} {statistics.median(shown):>28.2f} {min(shown):>6.2f} {max(shown):>6.2f} "
              f"{statistics.median(d for _, d in loads[n]):>17.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
