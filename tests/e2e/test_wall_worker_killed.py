"""Dashboard workers killed under 20 wall displays: the walls go on showing fresh data, none needs a reload.

`gunicorn app:server` (two workers) of the test's own, 20 wall displays that each exchanged a display token for a
session and then poll the wall's live callback over HTTP with the very body the wall page posts (captured from a
real wall page in Chromium, which stays open as a 21st display), carrying back their ``live-seen`` as the page
does. One worker is killed with SIGKILL, then, once gunicorn has replaced it, the other: from then on every
request is answered by a process that never saw the displays sign in, and the snapshot builder they elected is
gone too. Each display must still be answered 200 (its session is in the database, not in a worker) and see the
readings written after each kill, with the cookie and the page it has.
"""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

import bootstrap
from auth.principal import cli_principal
from settings import Settings
from tests.integration import events
from tests.integration.conftest import wait_until
from tests.isolation import isolated
from tests.served import Served, free_port

pytestmark = pytest.mark.e2e
DISPLAYS = 20
DEVICES = 20


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer (the connection broke: the request was on the killed worker)
    newest_ms: int | None = None


class Display(threading.Thread):
    """One wall screen: its live callback every ``period_s``, with what it last drew (``live-seen``)."""

    def __init__(self, url: str, session: requests.Session, body: dict, period_s: float) -> None:
        super().__init__(daemon=True)
        self.url, self.session, self.body, self.period_s = url, session, copy.deepcopy(body), period_s
        self.answers: list[Answer] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        tick, seen = 0, {}
        tick_input = next(i for i in self.body["inputs"] if i["id"] == "live-tick")
        seen_state = next(s for s in self.body["state"] if s["id"] == "live-seen")
        while not self.stopping.is_set():
            tick_input["value"], seen_state["value"] = tick, seen
            try:
                # A new connection each time, so a request goes to whichever worker accepts it: only requests
                # in flight on the killed worker can break, not a kept-alive connection reused later.
                reply = self.session.post(self.url + "/_dash-update-component", json=self.body,
                                          headers={"Connection": "close"}, timeout=60)  # fmt: skip
            except requests.RequestException:
                self.answers.append(Answer(None))
            else:
                if reply.status_code == 200:
                    response = reply.json()["response"]
                    seen = response.get("live-seen", {}).get("data", seen)
                    self.answers.append(Answer(200, response["live-clock"]["data"].get("newest_ms")))
                else:
                    self.answers.append(Answer(reply.status_code))
            tick += 1
            self.stopping.wait(self.period_s)

    def saw(self, newest_ms: int) -> bool:
        return any(a.newest_ms is not None and a.newest_ms >= newest_ms for a in list(self.answers))


@pytest.fixture
def city(tmp_path: Path) -> Iterator[Settings]:
    """Settings of the test's own, an ingest worker in a thread, and a few sensors already reporting."""
    with isolated(Settings(), ingest_block_ms=50, http_port=free_port(), display_recheck_s=1,
                  signin_attempts_per_minute=10_000) as settings:  # fmt: skip
        stop = threading.Event()
        worker = bootstrap.ingest_worker(settings, consumer="wall-kill-0")
        thread = threading.Thread(target=worker.run, args=(stop.is_set,), daemon=True)
        thread.start()
        try:
            now_ms = int(time.time() * 1000)
            rds = bootstrap.redis_client(settings)
            events.fill(rds, settings.stream_iot, (events.reading(f"aq-{i}", ts=now_ms - 60_000 + i)
                                                   for i in range(DEVICES)))  # fmt: skip
            wait_until(lambda: stored_newest(settings) is not None, timeout=60, what="the first readings stored")
            yield settings
        finally:
            stop.set()
            thread.join(timeout=30)


def stored_newest(settings: Settings) -> int | None:
    with bootstrap.db_connection(settings) as conn:
        return conn.execute("SELECT (extract(epoch FROM max(ts)) * 1000)::bigint FROM sensor_readings").fetchone()[0]


def workers_of(master: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


def write_reading(settings: Settings, value: float) -> int:
    """A reading of now (the newest the city has); returns its time in epoch ms."""
    ts = int(time.time() * 1000)
    bootstrap.redis_client(settings).xadd(settings.stream_iot, events.reading("aq-0", value=value, ts=ts))
    return ts


def test_killed_dashboard_workers_leave_every_wall_display_running(city, browser, tmp_path):
    settings = city
    commands = bootstrap.access_commands(settings, lambda: bootstrap.db_connection(settings))
    tokens = [commands.issue_display(cli_principal("tests"), f"wall-{n:02}", ["overview", "map"], 30).secret
              for n in range(DISPLAYS + 1)]  # fmt: skip
    server = Served(settings, tmp_path / "gunicorn.log", workers=2)
    displays: list[Display] = []
    context = None
    try:
        server.start()
        url, master = server.url, server.proc.pid
        wait_until(lambda: len(workers_of(master)) == 2, timeout=60, what="two gunicorn workers")

        # The real wall page: its first live callback is the body every display below posts.
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        live = lambda r: "_dash-update-component" in r.url and "live-seen" in (r.post_data or "")  # noqa: E731
        with page.expect_request(live, timeout=60_000) as request:
            page.goto(f"{url}/wall?token={tokens[DISPLAYS]}")
        body = json.loads(request.value.post_data)
        expect(page).to_have_url(f"{url}/wall", timeout=30_000)
        page.evaluate("window.__sameDocument = true")  # gone if the page is ever reloaded

        for token in tokens[:DISPLAYS]:
            session = requests.Session()
            assert session.get(f"{url}/wall?token={token}", timeout=60).url == url + "/wall"
            displays.append(Display(url, session, body, settings.live_refresh_ms / 1000))
        for display in displays:
            display.start()
        first = stored_newest(settings)
        wait_until(lambda: all(d.saw(first) for d in displays), timeout=120, what="every display showing the city")

        originals = workers_of(master)
        for victim, value in zip(sorted(originals), (111.0, 222.0), strict=True):
            os.kill(victim, signal.SIGKILL)
            wait_until(lambda v=victim: v not in (now := workers_of(master)) and len(now) == 2, timeout=120,
                       what=f"gunicorn to replace worker {victim}")  # fmt: skip
            newest = write_reading(settings, value)
            wait_until(lambda n=newest: all(d.saw(n) for d in displays), timeout=180,
                       what=f"every display showing the reading written after worker {victim} was killed")  # fmt: skip
        assert not workers_of(master) & originals  # every answer now comes from a worker started after the kills

        expect(page.locator('[id*="live-latest"]').first).to_contain_text("aq-0 PM2.5 222", timeout=60_000)
        assert page.evaluate("window.__sameDocument === true"), "the wall page was reloaded"
        expect(page.locator("#live-freshness")).to_have_class(re.compile("freshness-ok"))
    finally:
        for display in displays:
            display.stopping.set()
        for display in displays:
            display.join(timeout=90)
        if context is not None:
            context.close()
        server.stop()

    answers = [a for d in displays for a in d.answers]
    # Every HTTP answer was 200: no display was ever refused (401/403) or failed (5xx) by a worker, old or new.
    assert {a.status for a in answers if a.status is not None} == {200}
    # A broken connection is only a request that was in flight on a killed worker: at most one per display and kill.
    for display in displays:
        assert sum(a.status is None for a in display.answers) <= 2
