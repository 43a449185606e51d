"""Run N ingest workers as processes, restart one that dies, stop them all gracefully on SIGTERM/SIGINT."""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import wait

from settings import Settings

log = logging.getLogger(__name__)
STOP_GRACE_S = 30.0
RESTART_PAUSE_S = 1.0
# A batch is tens of thousands of short-lived containers with no reference cycles. At Python's default (a young
# collection every 700 allocations) the cycle collector kept walking them and everything long-lived: about a
# quarter of a worker's CPU (bench/ingest.py, docs/BENCHMARKS.md).
GC_YOUNG_THRESHOLD = 50_000


def _stop_on_signals() -> Callable[[], bool]:
    """From now on SIGTERM and SIGINT only ask to stop; the returned function says whether one came."""
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return lambda: stopping


def run_worker(settings: Settings, consumer: str | None, index: int = 0) -> None:
    """One worker in this process until SIGTERM or SIGINT; it finishes its batch before it returns. Its metrics
    are served on IOC_INGEST_METRICS_PORT + ``index`` (the worker's number under ``run_workers``)."""
    import bootstrap  # the composition root, imported here so a spawned child builds its own clients
    from ops.exposition import serve_metrics

    should_stop = _stop_on_signals()
    if settings.ingest_metrics_port:
        serve_metrics(settings.ingest_metrics_port + index, settings.metrics_addr)
    # On a shared box bulk storage yields the CPU to the alert evaluator and the dashboard: a stored reading
    # can be a second late, an alert should not be (bench/alerts.py).
    os.nice(settings.ingest_nice)
    worker = bootstrap.ingest_worker(settings, consumer)
    gc.freeze()  # what start-up built lives as long as the process: never scan it again
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    log.info("ingest worker %s consuming %s", worker.consumer, ", ".join(settings.streams.values()))
    worker.run(should_stop)
    log.info("ingest worker %s stopped", worker.consumer)


def _child(settings_json: str, consumer: str | None, index: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s")
    run_worker(Settings.model_validate_json(settings_json), consumer, index)


def run_workers(settings: Settings, workers: int, consumer_prefix: str | None = None) -> None:
    """Supervise ``workers`` processes; a crashed one is restarted, a signal stops them all."""
    if workers == 1:
        run_worker(settings, f"{consumer_prefix}-0" if consumer_prefix else None)
        return
    ctx = mp.get_context("spawn")
    payload = settings.revealed_json()  # the accounts' URLs are secrets: the children need them whole
    should_stop = _stop_on_signals()

    def start(index: int) -> mp.process.BaseProcess:
        name = f"{consumer_prefix}-{index}" if consumer_prefix else None
        proc = ctx.Process(target=_child, args=(payload, name, index), name=f"ingest-{index}")
        proc.start()
        return proc

    procs = {i: start(i) for i in range(workers)}
    while not should_stop():
        wait([p.sentinel for p in procs.values()], timeout=1.0)
        for index, proc in list(procs.items()):
            if not proc.is_alive() and not should_stop():
                log.error("ingest worker %d exited with %s; restarting it", index, proc.exitcode)
                time.sleep(RESTART_PAUSE_S)
                procs[index] = start(index)
    for proc in procs.values():
        if proc.is_alive():
            proc.terminate()  # SIGTERM: the worker commits and acknowledges its batch, then exits
    deadline = time.monotonic() + STOP_GRACE_S
    for proc in procs.values():
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
