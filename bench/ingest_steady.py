"""What ingest costs below full load: CPU per reading at a steady rate, lingering against not lingering.

    .venv/bin/python bench/ingest_steady.py [--rate 10000 30000] [--seconds 20] [--linger-ms 100]

For each rate, twice on a fresh schema and fresh streams: ``ioc ingest --workers 2`` with
``IOC_INGEST_LINGER_MS=0`` (the baseline: read again at once, as before lingering existed) and with the linger
asked for, while a producer process XADDs ordinary readings at that rate. After a warm-up it samples, from /proc,
the CPU of the ingest processes (the supervisor and its workers), of the whole PostgreSQL server and of
redis-server over ``--seconds``, and prints microseconds of CPU per reading and cores in use. Run it on an
otherwise quiet machine: the PostgreSQL and Redis figures count everything those servers do.
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.alerts import produce  # noqa: E402
from bench.ingest import drop, fresh_settings  # noqa: E402
from bench.proc_cpu import all_processes  # noqa: E402
from bench.waiting import wait_for  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.integration.processes import settings_env  # noqa: E402

WARM_UP_S = 3.0


def _tree(root: int, procs: dict[int, tuple[int, str, float]]) -> set[int]:
    members, grew = {root}, True
    while grew:
        more = {pid for pid, (parent, _, _) in procs.items() if parent in members} - members
        members |= more
        grew = bool(more)
    return members


def cpu(root: int) -> dict[str, float]:
    """CPU seconds so far: the ingest tree under ``root``, every postgres process, redis-server."""
    procs = all_processes()
    ingest = _tree(root, procs)

    def total(chosen: Callable[[int, str], bool]) -> float:
        return sum(seconds for pid, (_, name, seconds) in procs.items() if chosen(pid, name))

    return {"ingest": total(lambda pid, _: pid in ingest), "postgres": total(lambda _, name: name == "postgres"),
            "redis": total(lambda _, name: name == "redis-server")}  # fmt: skip


def measure(base: Settings, rate: float, linger_ms: int, seconds: float) -> dict[str, float]:
    """CPU µs per reading and cores, for one rate and one linger."""
    s = fresh_settings(base, base.ingest_batch).model_copy(
        update={"ingest_block_ms": base.ingest_block_ms, "ingest_linger_ms": linger_ms}
    )
    client = bootstrap.redis_client(s)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    ingest = subprocess.Popen([sys.executable, "-m", "cli.main", "ingest", "--workers", "2"], cwd=REPO,
                              env=settings_env(s), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    stop, sent = multiprocessing.Event(), multiprocessing.Value("q", 0)
    producer = multiprocessing.Process(target=produce, args=(s.redis_url, s.stream_iot, rate, stop, sent))
    try:
        wait_for(lambda: client.exists(s.stream_iot) and len(client.xinfo_consumers(s.stream_iot, s.consumer_group))
                 >= 2, 60)  # fmt: skip
        producer.start()
        time.sleep(WARM_UP_S)
        started, sent_before, before = time.monotonic(), sent.value, cpu(ingest.pid)
        time.sleep(seconds)
        elapsed, readings, after = time.monotonic() - started, sent.value - sent_before, cpu(ingest.pid)
    finally:
        stop.set()
        if producer.pid is not None:
            producer.join(10)
        ingest.terminate()
        ingest.wait(30)
        drop(s, client)
    figures = {"rate": readings / elapsed}
    for part in ("ingest", "postgres", "redis"):
        used = after[part] - before[part]
        figures[f"{part}_us"] = 1e6 * used / readings
        figures[f"{part}_cores"] = used / elapsed
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, nargs="+", default=[10_000, 30_000], help="readings/s offered")
    parser.add_argument("--seconds", type=float, default=20.0, help="sampling time per measurement")
    parser.add_argument("--linger-ms", type=int, default=Settings().ingest_linger_ms, help="the linger measured")
    args = parser.parse_args()
    base = Settings()
    print(f"{'rate':>8} {'linger':>7} {'reached/s':>10} {'ingest µs':>10} {'postgres µs':>12} {'redis µs':>9} "
          f"{'cores':>6} {'x baseline':>10}")  # fmt: skip
    for rate in args.rate:
        baseline = None
        for linger in (0, args.linger_ms):
            f = measure(base, rate, linger, args.seconds)
            cores = f["ingest_cores"] + f["postgres_cores"] + f["redis_cores"]
            baseline = baseline or cores
            print(f"{rate:>8,.0f} {linger:>5} ms {f['rate']:>10,.0f} {f['ingest_us']:>10.1f} {f['postgres_us']:>12.1f} "
                  f"{f['redis_us']:>9.1f} {cores:>6.2f} {cores / baseline:>10.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
