"""`ioc alerts run`: the evaluator (leader-elected) and the webhook sender in one process, stopped by a signal."""

from __future__ import annotations

import logging
import signal
import threading

from settings import Settings

log = logging.getLogger(__name__)
STOP_GRACE_S = 30.0


def run_alerts(settings: Settings, *, evaluate: bool = True, send: bool = True) -> None:
    """Run until SIGTERM or SIGINT; configuration errors (rules, receivers) surface before anything starts."""
    import bootstrap  # the composition root, imported here so the CLI's --help stays fast
    from alerts.metrics import watch_outbox
    from ops.exposition import serve_metrics

    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = []
    if evaluate:
        evaluator = bootstrap.alert_evaluator(settings)
        threads.append(threading.Thread(target=evaluator.run, args=(stopping.is_set,), name="alert-evaluator"))
    if send:
        sender = bootstrap.alert_sender(settings)
        threads.append(threading.Thread(target=sender.run, args=(stopping.is_set,), name="alert-sender"))
        watch_outbox(lambda: bootstrap.db_connection(settings, "alerts"), [r.name for r in settings.alert_receivers])
    serve_metrics(settings.alerts_metrics_port, settings.metrics_addr)
    for thread in threads:
        thread.start()
    log.info("alerts running (%s)", ", ".join(t.name for t in threads))
    stopping.wait()
    for thread in threads:
        thread.join(STOP_GRACE_S)
    log.info("alerts stopped")
