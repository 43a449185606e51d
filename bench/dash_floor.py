"""What any Dash page costs before its own data: an empty page in the same headless Chromium, cold.

    .venv/bin/python bench/dash_floor.py [--runs 5]

Serves two throw-away Dash apps whose layout is one ``html.Div`` (compressed like the IOC, see
serving/compression.py): one with only what ``import dash`` registers (the renderer, React, dcc, html, dash_table),
one that also imports the component libraries the IOC registers on every page (dash-leaflet, dash-ag-grid) and
picks its scripts as the IOC's pages without a grid do (serving/page_scripts.py: no polyfill, no DataTable loader,
dash-ag-grid deferred). For each it opens the page in a new browser context (empty cache) and reports the median
time until the div is on screen, on the page's own clock (bench/page_clock.py). bench/map.py's "map on page" and
"first clusters" are read against these: a target below the empty page's time cannot be met by anything the page
itself does.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import statistics
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import page_clock  # noqa: E402
from serving import compression  # noqa: E402
from serving.page_scripts import scripts_for  # noqa: E402
from tests.e2e.conftest import CHROMIUM  # noqa: E402
from tests.served import free_port  # noqa: E402


def empty_app(libraries: tuple[str, ...], as_ioc: bool):
    """A Dash app showing one div, with ``libraries`` imported so Dash serves their bundles; ``as_ioc``: with the
    scripts an IOC page without a grid loads."""
    for name in libraries:
        importlib.import_module(name)
    import dash
    from dash import html

    app = dash.Dash(__name__, serve_locally=True)
    app.layout = html.Div("empty page", id="empty-page")
    if as_ioc:
        interpolate = app.interpolate_index
        app.interpolate_index = lambda **parts: interpolate(**{**parts, "scripts": scripts_for("/", parts["scripts"])})
    compression.install(app.server, 32 * 1_048_576)
    return app


def time_to_div(browser, url: str) -> float:
    """Seconds from the navigation's start to the frame that shows the div, on the page's own clock."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page_clock.watch(context, ["#empty-page"])
    page = context.new_page()
    page.goto(url, wait_until="commit")
    seconds = page_clock.shown_after(page, "#empty-page", timeout_ms=60_000)
    context.close()
    return seconds


def measure(libraries: tuple[str, ...], runs: int, as_ioc: bool = False) -> float:
    port = free_port()
    server = make_server("127.0.0.1", port, empty_app(libraries, as_ioc).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            time_to_div(browser, f"http://127.0.0.1:{port}/")  # the server's first answer compresses the bundles
            seconds = statistics.median(time_to_div(browser, f"http://127.0.0.1:{port}/") for _ in range(runs))
            browser.close()
    finally:
        server.shutdown()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The bare app first: a module once imported stays registered with Dash for the rest of the process.
    bare = measure((), args.runs)
    ours = measure(("dash_leaflet", "dash_ag_grid"), args.runs, as_ioc=True)
    print(f"empty Dash page, cold, median of {args.runs}:")
    print(f"  dash alone (renderer, React, dcc, html, dash_table): {bare:.2f} s")
    print(f"  with dash-leaflet and dash-ag-grid, scripts as an IOC page without a grid: {ours:.2f} s "
          f"({ours / bare:.2f}x)")


if __name__ == "__main__":
    main()
