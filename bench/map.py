"""The city map with 50,000 and 200,000 sensors in a real browser, against 1,000 in the same run.

    .venv/bin/python bench/map.py [--sensors 50000 200000] [--baseline 1000]

For each size: a fresh schema seeded with that many sensors, `gunicorn app:server`, and Debian's headless
Chromium (Playwright) opening /map signed in. It reports the time until the first status clusters show on a
running server with an empty browser cache (and, apart, on the server's very first page, which includes its
first snapshot build), beside the time until the empty map is on the page (Dash's own start-up, the page's
scripts and its layout: what any Dash page pays before its data) and the time to the first clusters when the same
browser opens the map a second time (its cache holding the scripts), then zooms in three times with the map's own
control while recording every animation frame, and reports the longest gap between two frames (what a person
feels as a freeze) and the 95th percentile.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg
from playwright.sync_api import sync_playwright
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
from bench import page_clock  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.e2e.city_seed import seed_city  # noqa: E402
from tests.e2e.conftest import CHROMIUM, Served, free_port  # noqa: E402
from tests.served import ACCOUNTS, add_accounts  # noqa: E402

LOADS = 5  # cold loads per size; the median is reported
FRAME_PROBE = """async () => {
  const gaps = []; let last = performance.now(); let running = true;
  const tick = (t) => { gaps.push(t - last); last = t; if (running) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const zoomIn = document.querySelector('.leaflet-control-zoom-in');
  for (let i = 0; i < 3; i++) { zoomIn.click(); await new Promise(r => setTimeout(r, 700)); }
  running = false;
  gaps.sort((a, b) => a - b);
  return {max: gaps[gaps.length - 1], p95: gaps[Math.floor(gaps.length * 0.95)], frames: gaps.length};
}"""


def measure(base: Settings, sensors: int, log: Path) -> dict:
    tag = uuid.uuid4().hex[:8]
    settings = base.model_copy(update={
        "db_schema": f"bench_{tag}", "consumer_group": f"bench{tag}", "http_port": free_port(),
        "stream_iot": f"bench{tag}:iot", "stream_complaints": f"bench{tag}:complaints",
        "stream_datacenter": f"bench{tag}:datacenter", "stream_deadletter": f"bench{tag}:deadletter",
        "live_max_sensors": max(sensors, base.live_max_sensors),  # every sensor on the map, not the first 50,000
        "signin_attempts_per_minute": 1_000,  # a sign-in per cold load: more than a person's allowance
    })  # fmt: skip
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    seed_city(settings, sensors=sensors)
    add_accounts(settings)
    server = Served(settings, log)
    server.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            cold_server, *_ = first_clusters(browser, server.url)  # includes the first snapshot build
            # a new browser context each time (nothing cached); the median of LOADS
            loads = [first_clusters(browser, server.url) for _ in range(LOADS)]
            warm_server, drawn, revisit, polled = (statistics.median(column) for column in zip(*loads, strict=True))
            page = signed_in_page(browser, server.url)
            page.goto(server.url + "/map")
            page.wait_for_selector(".status-cluster", timeout=120_000)
            frames = page.evaluate(FRAME_PROBE)
            browser.close()
    finally:
        server.stop()
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))
    return {"sensors": sensors, "cold_server_s": cold_server, "first_clusters_s": warm_server, "drawn_s": drawn,
            "revisit_s": revisit, "polled_s": polled, **frames}


def signed_in_page(browser, url: str):
    """A page of a new browser context (empty cache), signed in as a viewer."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    account = ACCOUNTS["viewer"]
    context.request.post(url + "/login", form={"username": account.username, "password": account.password},
                         max_redirects=0)  # fmt: skip
    return context.new_page()


def first_clusters(browser, url: str) -> tuple[float, float, float, float]:
    """Seconds from opening /map to the first status clusters on screen, and to the (empty) map on the page, with
    nothing cached; and to the first clusters again when the same browser opens the map a second time (its
    cache holding the scripts, as for an officer who opened the dashboard before). All three on the page's own
    clock (bench/page_clock.py); the fourth is the first as Playwright's waiting saw it, for comparison."""
    page = signed_in_page(browser, url)
    page_clock.watch(page.context, [".leaflet-container", ".status-cluster"])
    started = time.perf_counter()
    page.goto(url + "/map", wait_until="commit")
    page.wait_for_selector(".status-cluster", timeout=120_000)
    polled = time.perf_counter() - started
    seconds = page_clock.shown_after(page, ".status-cluster")
    drawn = page_clock.shown_after(page, ".leaflet-container")
    again = page.context.new_page()
    again.goto(url + "/map", wait_until="commit")
    revisit = page_clock.shown_after(again, ".status-cluster")
    page.context.close()
    return seconds, drawn, revisit, polled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--log", type=Path, default=Path("/tmp/bench-map-gunicorn.log"))
    args = parser.parse_args()
    base = Settings()
    rows = [measure(base, n, args.log) for n in (args.baseline, *args.sensors)]
    print(f"page clock, median of {LOADS} cold loads (Playwright's own waiting, for comparison, in the last column)")
    print(f"{'sensors':>8} {'map on page s':>14} {'first clusters s':>17} {'second visit s':>15} "
          f"{'(fresh server) s':>17} {'longest frame gap ms':>21} {'p95 frame gap ms':>17} {'(as polled) s':>14}")
    for row in rows:
        print(f"{row['sensors']:>8,} {row['drawn_s']:>14.2f} {row['first_clusters_s']:>17.2f} "
              f"{row['revisit_s']:>15.2f} {row['cold_server_s']:>17.2f} {row['max']:>21.0f} {row['p95']:>17.0f} "
              f"{row['polled_s']:>14.2f}")
    for row in rows[1:]:
        print(f"ratio {row['sensors']:,} / {args.baseline:,}: first clusters "
              f"{row['first_clusters_s'] / rows[0]['first_clusters_s']:.2f}x, second visit "
              f"{row['revisit_s'] / rows[0]['revisit_s']:.2f}x, longest gap {row['max'] / rows[0]['max']:.2f}x")


if __name__ == "__main__":
    main()
