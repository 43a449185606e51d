"""The bare ingest pipeline in worker processes set up as `ioc ingest`'s: read → COPY → commit → ack, nothing else.

    IOC_...=... .venv/bin/python -m bench.bare_pipeline --workers 2 --rows ROWS.pickle

bench/ingest.py runs it as the limit of its end-to-end figure: the same number of spawned processes with the
same niceness and garbage-collector settings as ``streams.runner.run_worker``, the same consumer group, batch
size and block time, the same raw XREADGROUP over the three streams (``streams.group_read``), one binary COPY
per stream of the batch into the same hypertables in one transaction, then XACK. What it leaves out is exactly
what ingest adds: parsing (each entry's row was parsed beforehand, by bench/ingest.py, and is found here by its
entry id), admission of new identities, dead letters, current state and rollups.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing as mp
import os
import pickle
import signal
import sys
from multiprocessing.connection import wait
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from settings import Settings  # noqa: E402
from storage.event_store import COMPLAINT_TYPES, READING_TYPES, SAMPLE_TYPES, _copy  # noqa: E402
from streams.group_read import raw_reader, read_group  # noqa: E402
from streams.runner import GC_YOUNG_THRESHOLD  # noqa: E402

TABLES = {
    "iot": ("sensor_readings", READING_TYPES),
    "complaints": ("complaint_events", COMPLAINT_TYPES),
    "datacenter": ("datacenter_samples", SAMPLE_TYPES),
}


def _stop_flag() -> list[bool]:
    stopping = [False]

    def stop(_signum: int, _frame: object) -> None:
        stopping[0] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopping


def _replies(reply: object) -> list:
    """(stream, entries) pairs of an XREADGROUP reply, RESP2 list or RESP3 map."""
    return list(reply.items()) if isinstance(reply, dict) else list(reply or [])


def run_worker(settings_json: str, rows_path: str, index: int) -> None:
    """One bare worker until SIGTERM: each read's rows COPYed and committed, then the entries acknowledged."""
    settings = Settings.model_validate_json(settings_json)
    stopping = _stop_flag()
    os.nice(settings.ingest_nice)  # as streams.runner.run_worker
    with open(rows_path, "rb") as f:
        parsed: dict[str, list] = pickle.load(f)  # noqa: S301 - written by bench/ingest.py a moment ago
    kind_of = {settings.streams[kind].encode(): kind for kind in parsed}
    row_of = {kind: {row.source_id.encode(): row for row in rows} for kind, rows in parsed.items()}
    columns = {kind: type(rows[0])._fields for kind, rows in parsed.items()}
    client = bootstrap.redis_client(settings, "ingest")
    reader = raw_reader(client)
    conn = bootstrap.db_connection(settings, "ingest")
    group, consumer = settings.consumer_group, f"bare-{index}"
    starts = {stream: ">" for stream in settings.streams.values()}
    for stream in starts:  # what `ioc ingest`'s first XAUTOCLAIM does: bench/ingest.py waits to see the consumers
        client.xgroup_createconsumer(stream, group, consumer)
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    while not stopping[0]:
        replies = _replies(read_group(reader, group, consumer, starts, settings.ingest_batch, settings.ingest_block_ms))
        if not replies:
            continue
        with conn.transaction(), conn.cursor() as cur:
            for stream, entries in replies:
                kind = kind_of[stream if isinstance(stream, bytes) else stream.encode()]
                table, types = TABLES[kind]
                rows = row_of[kind]
                _copy(cur, table, columns[kind], types, [rows[entry_id] for entry_id, _ in entries])
        pipe = client.pipeline(transaction=True)
        for stream, entries in replies:
            pipe.xack(stream, group, *[entry_id for entry_id, _ in entries])
        pipe.execute()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rows", required=True, help="pickle of kind → parsed rows, written by bench/ingest.py")
    args = parser.parse_args()
    payload = Settings().revealed_json()
    ctx = mp.get_context("spawn")  # as streams.runner.run_workers
    procs = [
        ctx.Process(target=run_worker, args=(payload, args.rows, i), name=f"bare-{i}") for i in range(args.workers)
    ]
    stopping = _stop_flag()
    for proc in procs:
        proc.start()
    while not stopping[0] and any(p.is_alive() for p in procs):
        wait([p.sentinel for p in procs], timeout=0.5)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.join(30)


if __name__ == "__main__":
    main()
