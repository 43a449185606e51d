"""gunicorn's settings for every way the dashboard is served (gunicorn reads ./gunicorn.conf.py by itself).

The access log names the path without the query string and without the referrer: a wall's first request carries
its display token in the query (``/wall?token=…``, exchanged at once for a cookie), and no token or filter value
belongs in a log file.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'


# --- metrics of every worker in one scrape (prometheus-client's multiprocess mode; ops/exposition.py) ---------
# The library picks its mode when it is first imported, from PROMETHEUS_MULTIPROC_DIR: the master sets it before
# it forks a worker and never imports the library itself before that. Files of a worker that exits stay (its
# counters keep counting in the sums); its live gauges are dropped.
_made_metrics_dir: str | None = None


def on_starting(server) -> None:
    import os
    import tempfile
    from pathlib import Path

    from settings import load_settings

    global _made_metrics_dir
    configured = load_settings().metrics_multiproc_dir
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        for stale in Path(configured).glob("*.db"):  # a previous run's counters would be summed with ours
            stale.unlink()
        directory = configured
    else:
        directory = _made_metrics_dir = tempfile.mkdtemp(prefix="ioc-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    import shutil

    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
