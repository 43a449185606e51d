"""What hostile producers cost the good readings, and what the per-entry budget costs the hot path.

    .venv/bin/python bench/hostile_ingest.py [--good 10000] [--bad 100000] [--workers 2] [--rounds 3]
                                             [--baseline-tree DIR]

Two measures, each against a baseline taken in the same run (the machine is shared and noisy):

* **hostile ratio**: real `ioc ingest` worker processes, on fresh streams and a fresh schema each time, from the
  moment the filled stream appears (an atomic RENAME, as in bench/ingest.py) until every entry is stored or
  dead-lettered and acknowledged. Once with ``--good`` readings alone, once with the same readings interleaved
  with ``--bad`` malformed entries (every way of breaking the contract in turn: missing, not a number, NaN,
  outside the city, unknown district, bad or future time, bad word, not UTF-8, NUL, a field over its limit, an
  entry over its field budget). Rounds alternate the two; the ratio is mixed time ÷ good-only time.
* **parse hot path**: the reading parser alone over city-shaped flat entries as Redis sends them (fresh bytes
  objects each pass, so no hash is cached), CPU time per reading, for this tree and for ``--baseline-tree`` (a
  copy of an earlier commit, e.g. ``git archive <commit> | tar -x -C DIR``): both parsers loaded in this one
  process, taking turns pass by pass, so the machine's noise falls on both alike.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.ingest import drain_time, drop, fill, fresh_settings  # noqa: E402
from bench.workload import city_workload  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from streams.runner import GC_YOUNG_THRESHOLD  # noqa: E402

GOOD_SENSORS = 1000  # a fleet well under any cap on new devices, so only the malformed entries differ


def malformed(n: int, good: dict[str, str]) -> dict:
    """The n-th of a round of broken readings, one of each way to break the contract."""
    shapes = (
        lambda: {k: v for k, v in good.items() if k != "value"},
        lambda: good | {"value": "NaN"},
        lambda: good | {"value": "loud"},
        lambda: good | {"lat": "39.9", "lon": "116.4"},
        lambda: good | {"district": "atlantis"},
        lambda: good | {"ts": "1764000000"},
        lambda: good | {"ts": str(int(time.time() * 1000) + 10 * 86_400_000)},
        lambda: good | {"kind": "Air Quality"},
        lambda: good | {"device_id": b"\xff\xfe"},
        lambda: good | {"unit": "ug\x00m3"},
        lambda: good | {"unit": "x" * 5000},
        lambda: good | {f"extra_{i}": "1" for i in range(80)},
    )
    return shapes[n % len(shapes)]()


def mixed(good: list[dict], bad: int) -> list[dict]:
    """The good readings spread evenly among ``bad`` malformed ones."""
    every = (len(good) + bad) / len(good)
    out, g = [], 0
    for n in range(len(good) + bad):
        if g < len(good) and n >= g * every:
            out.append(good[g])
            g += 1
        else:
            out.append(malformed(n, good[g % len(good)]))
    return out


def ingest_time(base: Settings, entries: list[dict], good: int, workers: int, tree: Path = REPO) -> float:
    """Seconds from the stream's appearance to every entry stored or dead-lettered and acknowledged, with the
    workers of ``tree``."""
    s = fresh_settings(base, base.ingest_batch)
    client = bootstrap.redis_client(s)
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    fill(client, s, {"iot": entries}, suffix=":staged")
    elapsed = drain_time(s, client, workers, tree)
    with bootstrap.db_connection(s) as conn:
        stored = conn.execute("SELECT count(*) FROM sensor_readings").fetchone()[0]
    dead = client.xlen(s.stream_deadletter)
    # An earlier tree may accept some of the malformed entries (before the budgets, the one with 80 extra fields
    # was a reading, and a duplicate of its good twin); this tree must refuse every one.
    assert (stored, dead) == (good, len(entries) - good) or tree != REPO, (stored, dead)
    drop(s, client)
    return elapsed


def load_parser(tree: Path) -> tuple[Callable, Callable[[], object]]:
    """``parse_reading`` and a maker of fresh parse contexts from the code in ``tree``, imported apart from any
    other tree's (the project's modules are dropped from ``sys.modules`` before and after)."""
    ours = {p.stem for p in tree.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}

    def forget() -> None:
        for name in [m for m in sys.modules if m.split(".")[0] in ours]:
            del sys.modules[name]

    forget()
    sys.path.insert(0, str(tree))
    try:
        tree_bootstrap = importlib.import_module("bootstrap")
        tree_settings = importlib.import_module("settings")
        parse_reading = importlib.import_module("streams.iot").parse_reading
    finally:
        sys.path.remove(str(tree))
        forget()
    return parse_reading, lambda: tree_bootstrap.parse_context(tree_settings.Settings())


def parse_ab(trees: dict[str, Path], readings: int, sensors: int, passes: int, cold: bool) -> dict[str, list[float]]:
    """CPU µs per reading of each tree's parser over the same flat entries (fresh bytes objects each pass, as
    from Redis), the trees taking turns pass by pass in this one process; ``cold``: each device at a position of
    its own and new to the parser every pass (city scale), else the parser remembers the fleet between passes."""
    parsers = {name: load_parser(tree) for name, tree in trees.items()}
    workload = city_workload(readings, sensors, random.Random(7), own_positions=cold)["iot"]
    rows = [[part for pair in f.items() for part in pair] for f in workload]
    entry_id = b"%d-0" % int(time.time() * 1000)  # the workload's readings are of the last hours: none in the future
    contexts = {name: make() for name, (_, make) in parsers.items()}
    gc.collect()
    gc.freeze()  # as the workers do (streams/runner.py)
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    spent: dict[str, list[float]] = {name: [] for name in trees}
    for n in range(passes):
        order = list(parsers.items()) if n % 2 == 0 else list(parsers.items())[::-1]
        for name, (parse_reading, make) in order:
            ctx = make() if cold else contexts[name]
            entries = [[s.encode() for s in row] for row in rows]
            started = time.process_time()
            for fields in entries:
                parse_reading(fields, entry_id, ctx)  # raises if a reading is refused: only the good path is timed
            spent[name].append((time.process_time() - started) / readings * 1e6)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--good", type=int, default=10_000, help="good readings")
    parser.add_argument("--bad", type=int, default=100_000, help="malformed entries among them")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline-tree", type=Path, help="an earlier tree to compare the parser's hot path with")
    parser.add_argument("--parse-readings", type=int, default=200_000)
    parser.add_argument("--parse-rounds", type=int, default=5, help="passes of each parser, taking turns (x2)")
    parser.add_argument("--skip-ingest", action="store_true", help="only the parse hot path")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: dict[str, object] = {}

    trees = {"this tree": REPO} | ({"baseline": args.baseline_tree.resolve()} if args.baseline_tree else {})
    if not args.skip_ingest:
        base = Settings()
        good = city_workload(args.good, GOOD_SENSORS, random.Random(7))["iot"]
        hostile = mixed(good, args.bad)
        alone: dict[str, list[float]] = {name: [] for name in trees}
        among: dict[str, list[float]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                alone[name].append(ingest_time(base, good, args.good, args.workers, tree))
                among[name].append(ingest_time(base, hostile, args.good, args.workers, tree))
        for name in trees:
            ratio = statistics.median(among[name]) / statistics.median(alone[name])
            per_bad_us = (statistics.median(among[name]) - statistics.median(alone[name])) / args.bad * 1e6
            print(f"{name}: {args.good:,} good readings, {args.workers} workers (s): alone "
                  f"{', '.join(f'{t:.2f}' for t in alone[name])}; among {args.bad:,} malformed "
                  f"{', '.join(f'{t:.2f}' for t in among[name])}; median ratio {ratio:.1f}x, "
                  f"{per_bad_us:.1f} µs of wall time a malformed entry")  # fmt: skip
            figures[f"ingest_{name}"] = {"alone_s": alone[name], "among_bad_s": among[name], "ratio": ratio}

    shapes = ((50_000, False, "default (50,000 sensors)"), (args.parse_readings, True, "city scale (all new)"))
    passes = 2 * args.parse_rounds
    for sensors, cold, label in shapes:
        runs = parse_ab(trees, args.parse_readings, sensors, passes, cold)
        line = ", ".join(f"{name} {statistics.median(v[1:]):.2f} µs" for name, v in runs.items())
        if "baseline" in runs:
            paired = [mine / theirs for mine, theirs in zip(runs["this tree"][1:], runs["baseline"][1:], strict=True)]
            line += f"; this tree ÷ baseline, pass by pass: median {statistics.median(paired):.3f}"
            line += f" (range {min(paired):.3f}-{max(paired):.3f})"
        print(f"parse, {label}, {args.parse_readings:,} readings, CPU per reading (median of {passes - 1} passes "
              f"after the first): {line}")  # fmt: skip
        figures[f"parse_us_{sensors}"] = runs
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
