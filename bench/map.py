"""The city map with 50,000 sensors in a real browser, against the same map with 1,000 in the same run.

    .venv/bin/python bench/map.py [--sensors 50000] [--baseline 1000]

For each size: a fresh schema seeded with that many sensors, `gunicorn app:server`, and Debian's headless
Chromium (Playwright) opening /map. It reports the time until the first cluster markers show, then zooms in
three times with the map's own control while recording every animation frame, and reports the longest gap
between two frames (what a person feels as a freeze) and the 95th percentile gap.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import psycopg
from playwright.sync_api import sync_playwright
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.e2e.city_seed import seed_city  # noqa: E402
from tests.e2e.conftest import CHROMIUM, Served, free_port  # noqa: E402

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
    })  # fmt: skip
    migrate(settings.database_url, settings.db_schema, bootstrap.retention(settings))
    seed_city(settings, sensors=sensors)
    server = Served(settings, log)
    server.start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            started = time.perf_counter()
            page.goto(server.url + "/map")
            page.wait_for_selector(".status-cluster", timeout=120_000)
            first_clusters = time.perf_counter() - started
            frames = page.evaluate(FRAME_PROBE)
            browser.close()
    finally:
        server.stop()
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema)))
    return {"sensors": sensors, "first_clusters_s": first_clusters, **frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, default=50_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--log", type=Path, default=Path("/tmp/bench-map-gunicorn.log"))
    args = parser.parse_args()
    base = Settings()
    small, large = measure(base, args.baseline, args.log), measure(base, args.sensors, args.log)
    print(f"{'sensors':>8} {'first clusters s':>17} {'longest frame gap ms':>21} {'p95 frame gap ms':>17}")
    for row in (small, large):
        print(f"{row['sensors']:>8,} {row['first_clusters_s']:>17.2f} {row['max']:>21.0f} {row['p95']:>17.0f}")
    slower = large["first_clusters_s"] / small["first_clusters_s"]
    print(f"ratio {args.sensors:,} / {args.baseline:,}: first clusters {slower:.1f}x, "
          f"longest gap {large['max'] / small['max']:.1f}x")


if __name__ == "__main__":
    main()
