"""How fast a dead-letter replay puts letters back: N letters of one reading each, replayed in one go.

    .venv/bin/python bench/deadletter_replay.py [--letters 20000]

Uses streams of its own on IOC_REDIS_URL (removed afterwards) and the replay of `ioc deadletter replay`
(streams/replay.py): read in batches, re-add, delete. Ingest is not running, so this is the replay alone.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
from settings import Settings  # noqa: E402
from streams.replay import DeadLetters, Selection  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20_000)
    args = parser.parse_args()
    client = bootstrap.redis_client(Settings())
    tag = uuid.uuid4().hex[:8]
    dead, iot = f"bench{tag}:deadletter", f"bench{tag}:iot"
    letter = {"device_id": "aq-1", "kind": "air_quality", "metric": "pm25", "value": "NaN", "unit": "ug/m3",
              "lat": "22.5431", "lon": "114.0596", "dlq_code": "not_finite", "dlq_reason": "'value' must be finite",
              "dlq_stream": iot, "dlq_id": "1-0", "dlq_at_ms": "1"}  # fmt: skip
    try:
        pipe = client.pipeline(transaction=False)
        for _ in range(args.letters):
            pipe.xadd(dead, letter)
        pipe.execute()
        box = DeadLetters(client, dead, [iot], lock_key=f"bench{tag}:lock")
        started = time.perf_counter()
        report = box.replay(Selection())
        took = time.perf_counter() - started
        print(f"{report.summary()}: {took:.2f} s, {args.letters / took:,.0f} letters/s")
    finally:
        client.delete(dead, iot, f"bench{tag}:lock")


if __name__ == "__main__":
    main()
