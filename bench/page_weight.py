"""What a cold load of each page transfers, compressed against uncompressed, in one run.

    .venv/bin/python bench/page_weight.py [--sensors 2000]

A fresh schema seeded with a city (tests/e2e/city_seed.py), `gunicorn app:server`, and Debian's headless
Chromium with its cache disabled. Each page is opened twice, signed in as an operator: once as the browser asks
(zstd, br, gzip) and once with ``Accept-Encoding: identity``, the same server and data. Reported: bytes on the
wire per page (Chromium's encodedDataLength, headers included) and the ratio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from settings import Settings  # noqa: E402
from tests.e2e.city_seed import seed_city  # noqa: E402
from tests.isolation import isolated  # noqa: E402
from tests.served import ACCOUNTS, Served, add_accounts, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
PAGES = ("/", "/alerts", "/map", "/complaints", "/datacenters", "/history", "/pipeline", "/wall")


def transferred(browser, url: str, path: str, *, compressed: bool) -> int:
    """Bytes on the wire for a cold load of ``path`` until the network has been idle."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    account = ACCOUNTS["operator"]
    page.goto(url + "/login")
    page.fill("#username", account.username)
    page.fill("#password", account.password)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if not compressed:
        cdp.send("Network.setExtraHTTPHeaders", {"headers": {"Accept-Encoding": "identity"}})
    total = [0]
    cdp.on("Network.loadingFinished", lambda event: total.__setitem__(0, total[0] + event["encodedDataLength"]))
    page.goto(url + path, wait_until="networkidle")
    context.close()
    return total[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=2_000)
    args = parser.parse_args()
    with isolated(Settings(), http_port=free_port(), signin_attempts_per_minute=10_000) as settings:
        seed_city(settings, args.sensors)
        add_accounts(settings)
        served = Served(settings, Path("/tmp/bench_page_weight.log"), workers=1)
        served.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                print(f"{'page':<14}{'identity MB':>12}{'compressed MB':>15}{'ratio':>8}")
                for path in PAGES:
                    plain = transferred(browser, served.url, path, compressed=False)
                    packed = transferred(browser, served.url, path, compressed=True)
                    print(f"{path:<14}{plain / 1e6:>12.2f}{packed / 1e6:>15.2f}{packed / plain:>8.2f}")
                browser.close()
        finally:
            served.stop()


if __name__ == "__main__":
    main()
