"""Another site cannot frame the dashboard (clickjacking): the browser refuses, because every answer says
``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.e2e.conftest import free_port
from tests.integration.conftest import wait_until


def test_another_site_cannot_frame_the_dashboard(desktop, served):
    target = served.url + "/alerts"

    class Attacker(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            page = f'<!DOCTYPE html><html lang="en"><body><iframe src="{target}" width="800" height="600">'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write((page + "</iframe></body></html>").encode())

        def log_message(self, *args: object) -> None:
            pass

    attacker = ThreadingHTTPServer(("127.0.0.1", free_port()), Attacker)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        desktop.goto(f"http://127.0.0.1:{attacker.server_address[1]}/")
        frame = wait_until(lambda: next((f for f in desktop.frames if f is not desktop.main_frame), None),
                           timeout=10, what="the iframe")  # fmt: skip
        wait_until(lambda: frame.url != "about:blank", timeout=10, what="the iframe's navigation")
        assert frame.url.startswith("chrome-error://"), frame.url  # refused by the browser, not shown
        assert not any("/alerts" in f.url and not f.url.startswith("chrome-error") for f in desktop.frames[1:])
    finally:
        attacker.shutdown()
