"""What one live-snapshot build costs as the city grows: the builder's query, assembly and serialisation.

    .venv/bin/python bench/snapshot_build.py [--sensors 1000 10000 50000] [--repeat 5]

For each size, on a fresh schema: ``sensor_latest`` filled with that many devices (one metric each, positions in
Futian, ages up to 20 minutes so some are stale), then the builder's steps timed ``--repeat`` times on the
builder's own connection: ``read_city`` (every snapshot query), ``assemble`` (statuses, KPIs, digests) and the
JSON the builder stores in Redis (``live.store.encode``); and the decoding every dashboard process does for each
new version (``live.store.decode``). The median of each is printed, and the build's total as a ratio to the
smallest size measured in the same run. One build runs at most every ``IOC_LIVE_REBUILD_MIN_S``
(1 s) while ingest commits.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.ingest import drop, fresh_settings  # noqa: E402
from live.queries import Windows, read_city  # noqa: E402
from live.snapshot import assemble  # noqa: E402
from live.store import decode, encode  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402

FILL = """
    INSERT INTO sensor_latest (device_id, metric, kind, unit, value, ts, lat, lon, district)
    SELECT 'aq-' || lpad(d::text, 7, '0'), 'pm25', 'air_quality', 'ug/m3', (d * 37 %% 150)::float8,
           now() - (d %% 1200) * interval '1 second', 22.52 + (d %% 97) * 0.0004, 114.03 + (d %% 89) * 0.0005, 'futian'
    FROM generate_series(1, %(n)s) d
"""


def measure(base: Settings, sensors: int, repeat: int) -> dict[str, float]:
    """Median milliseconds of each build step with ``sensors`` devices."""
    s = fresh_settings(base, base.ingest_batch)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    conn = bootstrap.db_connection(s)
    conn.autocommit = True
    centres = bootstrap.district_centres(s)
    bands = bootstrap.status_bands(s)
    times: dict[str, list[float]] = {"query": [], "assemble": [], "json": [], "decode": []}
    try:
        conn.execute(FILL, {"n": sensors})
        conn.execute("ANALYZE sensor_latest")
        for _ in range(repeat):
            started = time.perf_counter()
            facts = read_city(conn, Windows.at(datetime.now(UTC), s.city_timezone))
            queried = time.perf_counter()
            doc = assemble(facts, bands, centres)
            assembled = time.perf_counter()
            raw = encode(doc, 1)
            encoded = time.perf_counter()
            decode(raw)
            decoded = time.perf_counter()
            times["query"].append(queried - started)
            times["assemble"].append(assembled - queried)
            times["json"].append(encoded - assembled)
            times["decode"].append(decoded - encoded)
    finally:
        conn.close()
        drop(s, bootstrap.redis_client(s))
    return {step: 1000 * statistics.median(values) for step, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    base = Settings()
    print(f"{'sensors':>8} {'query ms':>9} {'assemble ms':>12} {'json ms':>8} {'build ms':>9} {'x smallest':>10} "
          f"{'reader decode ms':>16}")  # fmt: skip
    smallest = None
    for sensors in sorted(args.sensors):
        f = measure(base, sensors, args.repeat)
        total = f["query"] + f["assemble"] + f["json"]
        smallest = smallest or total
        print(f"{sensors:>8,} {f['query']:>9.1f} {f['assemble']:>12.1f} {f['json']:>8.1f} {total:>9.1f} "
              f"{total / smallest:>10.1f} {f['decode']:>16.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
