"""What the fault tests share: the city's processes as real children, the readings they feed, what they check."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.integration import events
from tests.integration.alerting import Receiver
from tests.integration.processes import REPO

# One threshold rule; an alert stays open while its device stays over it (so a second firing would be a double).
RULES = """
[defaults]
keep_firing_for = "0s"
[[rule]]
id = "pm25_high"
type = "threshold"
severity = "critical"
summary = "PM2.5 at {subject}: {value}"
metric = "pm25"
subject = "device"
reduce = "last"
threshold = 150
"""
T = int(time.time() * 1000) - 3_600_000  # an hour ago: recent enough to outlive retention


def background(first: int, n: int) -> Iterator[dict[str, str]]:
    """Readings under the threshold, each unique by device, metric and ``ts``."""
    return (events.reading(f"aq-{i % 500}", value=i % 97, ts=T + i) for i in range(first, first + n))


def hot(device: str, n: int) -> list[dict[str, str]]:
    """``n`` readings of ``device`` over the threshold, of now."""
    now_ms = int(time.time() * 1000)
    return [events.reading(device, value=400 + k, ts=now_ms - 1000 + k) for k in range(n)]


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """`ioc <args>` as a real process with ``env``, its output in ``log``."""
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM (the process finishes its batch), SIGKILL if it does not exit."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def children(pid: int) -> set[int]:
    """The pids of ``pid``'s child processes (the workers `ioc ingest --workers N` supervises)."""
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def firing(receiver: Receiver) -> list[str]:
    """The subject of every alert.firing webhook received, in order."""
    return [d.json["data"]["alert"]["subject"] for d in receiver.deliveries if d.json["type"] == "alert.firing"]


def assert_stored_once_and_each_alert_once(count: Callable[[str], int], total: int, receiver: Receiver,
                                           alerts: list[str]) -> None:  # fmt: skip
    """After a fault: ``total`` readings each stored once (raw rows and the minute rollup), and each of ``alerts``
    fired, queued and delivered once. ``count`` answers a ``SELECT count(…)`` against the test's schema."""
    assert count("SELECT count(DISTINCT (device_id, metric, ts)) FROM sensor_readings") == total
    assert count("SELECT count(DISTINCT source_id) FROM sensor_readings") == total
    assert count("SELECT sum(readings) FROM sensor_rollup_1m") == total
    assert count("SELECT count(*) FROM alerts") == len(alerts)
    assert count("SELECT count(*) FROM alert_outbox WHERE event_type = 'alert.firing'") == len(alerts)
    assert sorted(firing(receiver)) == sorted(alerts), "each alert delivered once"
