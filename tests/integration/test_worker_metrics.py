"""The metrics of `ioc ingest` and `ioc alerts run` as real processes, scraped over HTTP after real work: the
counters move by exactly the entries, alerts and deliveries the test caused, and promtool accepts the text."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.integration.alerting import Receiver, start_alerts, with_receivers, write_rules
from tests.integration.conftest import wait_until
from tests.integration.events import fill, reading
from tests.integration.processes import start_ingest
from tests.integration.scrape import parse, promtool_check, scrape, value
from tests.served import free_port

pytestmark = pytest.mark.integration
RULES = ('[defaults]\nkeep_firing_for = "0s"\n[[rule]]\nseverity = "warning"\nsummary = "{rule} {subject} {value}"\n'
         'id = "pm25_high"\ntype = "threshold"\nmetric = "pm25"\nreduce = "last"\nthreshold = 150\n')  # fmt: skip


@contextmanager
def running(proc: subprocess.Popen) -> Iterator[subprocess.Popen]:
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def sample(url: str, name: str, labels: dict[str, str] | None = None, default: float | None = 0.0):
    """One sample of the process's metrics now; ``default`` when it is absent or the server does not answer yet."""
    try:
        text = scrape(url)
    except OSError:
        return default
    return value(parse(text)[1], name, labels, default)


def test_ingest_counts_what_it_stored_and_rejected(test_settings, rds, tmp_path):
    settings = test_settings.model_copy(update={"ingest_metrics_port": free_port()})
    url = f"http://127.0.0.1:{settings.ingest_metrics_port}/metrics"
    stream, group = settings.stream_iot, settings.consumer_group
    fill(rds, stream, [reading(f"aq-{i}", 30.0 + i) for i in range(5)])
    rds.xadd(stream, reading("aq-9", 30.0) | {"value": "not a number"})
    with running(start_ingest(settings, log=tmp_path / "ingest.log")):
        stored = {"stream": stream}
        wait_until(lambda: sample(url, "ioc_ingest_entries_stored_total", stored) == 5, timeout=90, what="5 stored")
        wait_until(lambda: rds.xlen(settings.stream_deadletter) == 1, what="the bad entry dead-lettered")
        (letter,) = rds.xrange(settings.stream_deadletter)
        code = letter[1][b"dlq_code"].decode()
        # Housekeeping reads the group's lag and pending entries (its first, before any read: lag 6, pending 0);
        # both are 0 once everything is delivered and acknowledged.
        of_group = {"stream": stream, "group": group}
        wait_until(lambda: sample(url, "ioc_stream_group_lag", of_group, None) == 0, what="no entry waiting")
        wait_until(lambda: sample(url, "ioc_stream_group_pending", of_group, None) == 0, what="no entry pending")
        text = scrape(url)
    names, samples = parse(text)
    assert value(samples, "ioc_ingest_entries_read_total", {"stream": stream}) == 6
    assert value(samples, "ioc_ingest_entries_stored_total", {"stream": stream}) == 5
    assert value(samples, "ioc_ingest_entries_rejected_total", {"stream": stream, "code": code}) == 1
    assert value(samples, "ioc_ingest_duplicates_total") == 0
    assert value(samples, "ioc_stream_group_lag", {"stream": stream, "group": group}) == 0
    assert value(samples, "ioc_ingest_batch_entries_sum") == 6
    assert value(samples, "ioc_ingest_commit_duration_seconds_count") >= 1
    assert {"ioc_ingest_entries_read", "ioc_ingest_batch_entries", "ioc_ingest_commit_duration_seconds",
            "ioc_stream_group_pending", "process_resident_memory_bytes"} <= names  # fmt: skip
    promtool_check(text)


def test_alerting_counts_what_it_judged_fired_resolved_and_delivered(test_settings, rds, tmp_path):
    receiver = Receiver().start()
    try:
        settings = with_receivers(test_settings, receiver, alert_rules_file=write_rules(tmp_path / "r.toml", RULES),
                                  alert_tick_s=0.1, alert_consumer_group=f"{test_settings.consumer_group}-alerts",
                                  alerts_metrics_port=free_port())  # fmt: skip
        url = f"http://127.0.0.1:{settings.alerts_metrics_port}/metrics"
        stream, group = settings.stream_iot, settings.alert_consumer_group.encode()
        with running(start_alerts(settings, log=tmp_path / "alerts.log")):
            # The evaluator's group starts at the stream's end: readings count from once it exists.
            wait_until(lambda: rds.exists(stream) and any(g["name"] == group for g in rds.xinfo_groups(stream)),
                       timeout=60, what="the evaluator's group")  # fmt: skip
            rds.xadd(stream, reading("aq-1", 400.0))
            wait_until(lambda: len(receiver.deliveries) == 1, timeout=60, what="the firing webhook")
            rds.xadd(stream, reading("aq-1", 20.0))
            wait_until(lambda: len(receiver.deliveries) == 2, timeout=60, what="the resolving webhook")
            delivered = {"receiver": "r0", "outcome": "delivered"}
            wait_until(lambda: sample(url, "ioc_alerts_webhook_deliveries_total", delivered) == 2, what="2 counted")
            text = scrape(url)
    finally:
        receiver.stop()
    names, samples = parse(text)
    assert value(samples, "ioc_alerts_records_evaluated_total", {"stream": stream}) == 2
    assert value(samples, "ioc_alerts_fired_total", {"rule": "pm25_high"}) == 1
    assert value(samples, "ioc_alerts_resolved_total", {"rule": "pm25_high"}) == 1
    assert value(samples, "ioc_alerts_webhook_duration_seconds_count", {"receiver": "r0"}) == 2
    assert value(samples, "ioc_alerts_outbox_pending", {"receiver": "r0"}, None) == 0
    assert value(samples, "ioc_alerts_evaluator_leader") == 1
    promtool_check(text)


def test_each_ingest_worker_process_serves_its_own_port(test_settings, rds, tmp_path):
    settings = test_settings.model_copy(update={"ingest_metrics_port": free_port()})
    urls = [f"http://127.0.0.1:{settings.ingest_metrics_port + n}/metrics" for n in range(2)]
    stream = settings.stream_iot
    with running(start_ingest(settings, "--workers", "2", log=tmp_path / "ingest.log")):
        wait_until(lambda: all(sample(url, "process_start_time_seconds", None, None) for url in urls), timeout=90,
                   what="both workers' metrics servers")  # fmt: skip
        fill(rds, stream, [reading(f"aq-{i}", 30.0) for i in range(40)])
        # The group shares the entries out: each worker counts its own, and together they count each entry once.
        wait_until(lambda: sum(sample(url, "ioc_ingest_entries_stored_total", {"stream": stream}) for url in urls)
                   == 40, timeout=90, what="40 entries stored across both workers")  # fmt: skip
