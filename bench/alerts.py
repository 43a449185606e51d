"""Alert latency: from the XADD of a rule-breaking reading to the webhook arriving, idle and under ingest load.

    .venv/bin/python bench/alerts.py [--alerts 200] [--rate 10000 20000] [--spacing 0.1] [--gauge-rule] [--forecast]
                                     [--incidents] [--noise-rule] [--device-anomaly]

Each phase runs on a fresh schema and fresh streams, with real processes: `ioc ingest --workers 2`, `ioc alerts
run` (evaluator + sender) and a local HTTP receiver in this process. One threshold rule with no hold
(`reduce = "last"`, `for = 0`) watches PM2.5 per device; ``--alerts`` probe readings, each from a new device and
far above the threshold, are XADDed one every ``--spacing`` seconds into the IoT stream, so each is a new alert
and one webhook. The latency of a probe is the receiver's arrival time minus the time just before its XADD, both
taken in this process on the same clock.

* idle: the baseline, nothing else on the streams;
* load: a producer process XADDs ordinary readings (50,000 devices, never breaching) at ``--rate`` per second
  into the same stream, which the ingest workers store and the evaluator reads and judges like any other.

``--forecast`` adds a forecast rule (docs/ALERTS.md) on the background's 10,000 water gauges, per device, with a
5-second step (``--forecast-step``; the shipped rules step once a minute): in a phase of seconds every gauge then
closes a step every other reading, and the gate and refit path is paid as often as a noisy feed could make it,
not only the per-reading bookkeeping of a minute-long step. Its own alerts, if any, are counted apart from the probes'.

``--gauge-rule`` adds a plain threshold rule on the same gauges that never fires, so the evaluator parses and judges
their readings as it does with the shipped rules file (without it, the probes' PM2.5 rule lets it acknowledge them
unparsed): the like-for-like baseline for ``--forecast``. ``--incidents`` groups the probes' alerts into incidents.

``--device-anomaly`` adds a per-device anomaly rule (docs/ALERTS.md) on the background's 10,000 noise sensors, each
with eight days of history at the hours it is judged by, seeded into ``device_rollup_1h`` before the processes start
(its usual value is the mean of the values it sends): the evaluator counts each noise reading into its device's hour
and scores its 15-minute mean. A phase lasts seconds, so a window holds a few of a sensor's eight values (±50 %
of its typical level, up to ~30 spreads from their mean): the threshold, 50 spreads, is beyond any of them, so
every reading is scored and none fires. ``--noise-rule`` adds a never-firing threshold rule on the same sensors
with the same window, the like-for-like baseline (noise readings parsed and windowed, as with the shipped rules,
whose noise band watches them).

The machine is shared and noisy, so the figure to compare is the ratio of load to idle. Each probe is also cut
into stages from the rows it left: ``alerts.fired_at`` (evaluator clock when it judged the batch),
``alert_outbox.created_at`` (start of the store transaction) and the receiver's arrival.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import redis
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from bench.proc_cpu import cpu_s  # noqa: E402
from bench.waiting import wait_for  # noqa: E402
from bench.workload import KINDS, SPOTS  # noqa: E402
from settings import Settings  # noqa: E402
from storage.migrate import migrate  # noqa: E402
from tests.integration.alerting import Receiver, start_alerts, with_receivers, write_rules  # noqa: E402
from tests.integration.processes import start_ingest  # noqa: E402

RULE = """
[[rule]]
id = "bench_pm25_device"
type = "threshold"
severity = "critical"
summary = "PM2.5 at {subject} is {value:.0f}"
match = { kind = "air_quality" }
metric = "pm25"
subject = "device"
reduce = "last"
op = ">"
threshold = 1000
"""
FORECAST_RULES = """
[[rule]]
id = "bench_water_forecast"
type = "forecast"
severity = "warning"
summary = "{subject} will reach {threshold} m in about {expected_in}"
match = { kind = "water_level" }
metric = "level_m"
subject = "device"
op = ">="
threshold = 2.8
horizon = "30m"
window = "{window}"
step = "{step}"
min_points = 4
"""
# With --incidents: the probes (critical, all at one spot) open one incident and join it, so each alert also pays
# for grouping in its transaction (docs/ALERTS.md, "Incidents"); max_members lets every probe join.
INCIDENTS = """
[incidents]
window = "30m"
distance_m = 2000
quiet = "1h"
max_members = 10000
"""
# A rule on the gauges that never fires (--gauge-rule): their readings are parsed and judged, as with the shipped rules.
GAUGE_RULE = """
[[rule]]
id = "bench_water_high"
type = "threshold"
severity = "warning"
summary = "{subject} reads {value} m"
match = { kind = "water_level" }
metric = "level_m"
subject = "device"
threshold = 100
"""
NOISE_RULE = """
[[rule]]
id = "bench_noise_high"
type = "threshold"
severity = "warning"
summary = "{subject} reads {value} dB"
match = { kind = "noise" }
metric = "laeq_db"
subject = "device"
window = "15m"
threshold = 1000
"""
DEVICE_ANOMALY_RULE = """
[[rule]]
id = "bench_noise_unusual"
type = "anomaly"
severity = "warning"
summary = "{subject} reads {value:.0f} dB, usual {usual:.0f}"
match = { kind = "noise" }
metric = "laeq_db"
subject = "device"
direction = "above"
window = "15m"
threshold = 50
min_mad = 1
"""
PROBE_VALUE = "5000"
BACKGROUND_SENSORS = 50_000
WALL = time.time() - time.monotonic()  # database timestamps are wall clock; the probes' are monotonic


def fresh_settings(base: Settings, rules: Path) -> Settings:
    tag = uuid.uuid4().hex[:8]
    return base.model_copy(update={
        "db_schema": f"bench_{tag}", "stream_iot": f"bench{tag}:iot", "stream_complaints": f"bench{tag}:complaints",
        "stream_datacenter": f"bench{tag}:datacenter", "stream_deadletter": f"bench{tag}:deadletter",
        "consumer_group": f"bench{tag}", "alert_consumer_group": f"bench{tag}-alerts", "alert_rules_file": rules,
    })  # fmt: skip


def background() -> list[tuple[dict[str, str], list[str]]]:
    """The background's devices: each one's fields and the eight values it sends in turn (the same every run)."""
    rng = random.Random(7)
    devices = []
    for n in range(BACKGROUND_SENSORS):
        kind, metric, unit, typical = KINDS[n % len(KINDS)]
        lat, lon = SPOTS[rng.randrange(len(SPOTS))]
        devices.append(({"device_id": f"{kind}-{n:06d}", "kind": kind, "metric": metric, "unit": unit, "lat": lat,
                         "lon": lon}, [f"{typical * rng.uniform(0.5, 1.5):.2f}" for _ in range(8)]))  # fmt: skip
    return devices


def seed_device_history(s: Settings) -> int:
    """Eight days of hourly means of every background noise sensor at the hours a refresh now loads (its usual
    value is the mean of its eight values): what a city with history gives the per-device anomaly rule."""
    from datetime import UTC, datetime

    from alerts.anomaly import LocalHours
    from alerts.device_baselines import write_hours
    from alerts.device_hours import HourMean, buckets_wanted, hours_wanted

    hour_of = LocalHours(s.city_timezone)
    now = time.time()
    buckets = buckets_wanted((now // 3600) * 3600, 8, hours_wanted(now, 900.0, s.alert_baseline_refresh_s, hour_of),
                             hour_of)  # fmt: skip
    noise = [(f["device_id"], sum(map(float, v)) / 8) for f, v in background() if f["kind"] == "noise"]
    rows = [HourMean("laeq_db", d, b, "noise", "futian", 100, 100 * mean) for b in buckets for d, mean in noise]
    with bootstrap.db_connection(s) as conn:
        for k in range(0, len(rows), 50_000):
            write_hours(conn, rows[k : k + 50_000])
    print(f"  seeded {len(rows):,} device-hours ({datetime.now(UTC):%H:%M:%S})", file=sys.stderr)
    return len(rows)


def produce(redis_url: str, stream: str, rate: float, stop: multiprocessing.Event, sent: multiprocessing.Value) -> None:
    """XADD ordinary readings at ``rate``/s until ``stop``; devices cycle so a chunk never repeats one."""
    client = redis.Redis.from_url(redis_url)
    devices = background()
    started, count, last_ms = time.monotonic(), 0, 0
    while not stop.is_set():
        due = int((time.monotonic() - started) * rate) - count
        if due <= 0:
            time.sleep(0.002)
            continue
        due = min(due, 2000)
        ts = str(last_ms := max(int(time.time() * 1000), last_ms + 1))
        pipe = client.pipeline(transaction=False)
        for i in range(count, count + due):
            fields, values = devices[i % BACKGROUND_SENSORS]
            pipe.xadd(stream, {**fields, "value": values[i // BACKGROUND_SENSORS % 8], "ts": ts})
        pipe.execute()
        count += due
        sent.value = count


def probe(client: redis.Redis, stream: str, tag: str, n: int) -> float:
    """XADD one breaching reading from a new device; returns the monotonic time just before the XADD."""
    lat, lon = SPOTS[0]
    fields = {"device_id": f"probe-{tag}-{n:04d}", "kind": "air_quality", "metric": "pm25", "unit": "ug/m3",
              "lat": lat, "lon": lon, "value": PROBE_VALUE, "ts": str(int(time.time() * 1000))}  # fmt: skip
    at = time.monotonic()
    client.xadd(stream, fields)
    return at


def phase(base: Settings, rules: Path, alerts: int, spacing: float, rate: float, history: bool = False) -> dict:
    """One measurement on fresh schema and streams; ``rate`` 0 is the idle baseline. ``history``: seed the
    per-device anomaly rule's (``--device-anomaly``)."""
    receiver = Receiver().start()
    plain = fresh_settings(base, rules)
    s = with_receivers(plain, receiver)
    client = bootstrap.redis_client(s)
    try:
        return _run(plain, s, client, receiver, alerts, spacing, rate, rules.parent, history)
    finally:
        _drop(s, client)


def _run(plain: Settings, s: Settings, client: redis.Redis, receiver: Receiver, alerts: int, spacing: float,
         rate: float, logs: Path, history: bool) -> dict:  # fmt: skip
    migrate(s.database_url, s.db_schema, bootstrap.retention(s))
    if history:
        seed_device_history(s)
    # ingest gets the settings without receivers: their secrets only travel through alerts_env
    procs = [start_ingest(plain, "--workers", "2", log=logs / f"{s.db_schema}-ingest.log"),
             start_alerts(s, log=logs / f"{s.db_schema}-alerts.log")]  # fmt: skip
    stop, sent, producer = multiprocessing.Event(), multiprocessing.Value("q", 0), None
    try:
        wait_for(lambda: _consumers(client, s.stream_iot, s.consumer_group) >= 2
              and _consumers(client, s.stream_iot, s.alert_consumer_group) >= 1, 60)  # fmt: skip
        if rate:
            producer = multiprocessing.Process(target=produce, args=(s.redis_url, s.stream_iot, rate, stop, sent))
            producer.start()
            time.sleep(5)  # let the load settle: ingest and evaluator in their steady state before the first probe
        tag, sent_at = s.db_schema[-8:], {}
        before = (time.monotonic(), sent.value, _lag(client, s), cpu_s(procs[1].pid))
        for n in range(alerts):
            sent_at[f"probe-{tag}-{n:04d}"] = probe(client, s.stream_iot, tag, n)
            time.sleep(spacing)
        after = (time.monotonic(), sent.value, _lag(client, s), cpu_s(procs[1].pid))
        wait_for(lambda: len(_probes(receiver)) >= alerts, 180)
    finally:
        stop.set()
        if producer is not None:
            producer.join(10)
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        receiver.stop()
    seconds = after[0] - before[0]
    load = {"rate": (after[1] - before[1]) / seconds, "lag": after[2],
            "evaluated": (after[1] - before[1] + alerts - (after[2]["alerts"] - before[2]["alerts"])) / seconds,
            "alerts_cpu": (after[3] - before[3]) / seconds}  # fmt: skip
    return _measure(s, sent_at, receiver) | load


def _probes(receiver: Receiver) -> list:
    """The deliveries of the probes' alerts (a forecast rule's own alerts and incidents' messages are not probes)."""
    return [d for d in receiver.deliveries
            if (d.json["data"].get("alert") or {}).get("rule_id") == "bench_pm25_device"]


def _lag(client: redis.Redis, s: Settings) -> dict[str, int]:
    """Entries not yet read by each group on the IoT stream."""
    names = {s.consumer_group: "ingest", s.alert_consumer_group: "alerts"}
    return {names[g["name"].decode()]: g["lag"] for g in client.xinfo_groups(s.stream_iot)}


def _measure(s: Settings, sent_at: dict[str, float], receiver: Receiver) -> dict:
    arrived = {d.json["data"]["alert"]["subject"]: d.at for d in _probes(receiver)}
    with psycopg.connect(s.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(s.db_schema)))
        rows = conn.execute("SELECT a.subject, extract(epoch FROM a.fired_at), extract(epoch FROM o.created_at)"
                            " FROM alerts a JOIN alert_outbox o ON o.alert_id = a.id"
                            " WHERE a.rule_id = 'bench_pm25_device'").fetchall()  # fmt: skip
        others = conn.execute("SELECT count(*) FROM alerts WHERE rule_id <> 'bench_pm25_device'").fetchone()[0]
    stages = {"queue+read+parse": [], "judge+store start": [], "commit+notify+POST": []}
    for subject, fired, queued in rows:
        xadd = sent_at[subject] + WALL
        stages["queue+read+parse"].append(float(fired) - xadd)
        stages["judge+store start"].append(float(queued) - float(fired))
        stages["commit+notify+POST"].append(arrived[subject] + WALL - float(queued))
    latencies = sorted(arrived[k] - sent_at[k] for k in sent_at)
    quarter = len(latencies) // 4
    ordered = [arrived[k] - sent_at[k] for k in sent_at]
    return {"alerts": len(latencies), "other_alerts": others, **_pcts(latencies),
            "first_quarter_p50": statistics.median(ordered[:quarter]),
            "last_quarter_p50": statistics.median(ordered[-quarter:]),
            "stages": {name: _pcts(sorted(v)) for name, v in stages.items()}}  # fmt: skip


def _pcts(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "max": values[-1]}


def _consumers(client: redis.Redis, stream: str, group: str) -> int:
    try:
        return next((g["consumers"] for g in client.xinfo_groups(stream)
                     if g["name"] in (group, group.encode())), 0)  # fmt: skip
    except redis.ResponseError:
        return 0


def _drop(s: Settings, client: redis.Redis) -> None:
    for key in [*client.scan_iter(match=s.stream_iot.split(":")[0] + "*"), s.alert_consumer_group + ":leader"]:
        client.delete(key)
    with psycopg.connect(s.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s.db_schema)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=200, help="probe readings per phase, each a new alert")
    parser.add_argument(
        "--rate", type=float, nargs="+", default=[10_000, 30_000], help="background readings/s, one load phase each"
    )
    parser.add_argument("--spacing", type=float, default=0.1, help="seconds between two probes")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--forecast", action="store_true", help="add a forecast rule on the gauges to the rule")
    parser.add_argument("--forecast-step", type=float, default=5.0, help="its step in seconds (the shipped: 60)")
    parser.add_argument("--incidents", action="store_true", help="group the alerts into incidents as well")
    parser.add_argument("--gauge-rule", action="store_true", help="a never-firing threshold rule on the gauges too")
    parser.add_argument("--noise-rule", action="store_true", help="a never-firing threshold rule on noise sensors")
    parser.add_argument("--device-anomaly", action="store_true", help="a per-device anomaly rule on noise sensors")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ioc-bench-alerts-"))  # the rules file and the processes' logs
    step = args.forecast_step
    forecast = (FORECAST_RULES.replace("{step}", f"{step:g}s").replace("{window}", f"{10 * step:g}s")
                if args.forecast else "")  # fmt: skip
    rules = write_rules(tmp / "bench_rules.toml", RULE + (GAUGE_RULE if args.gauge_rule else "") + forecast
                        + (NOISE_RULE if args.noise_rule else "") + (DEVICE_ANOMALY_RULE if args.device_anomaly else "")
                        + (INCIDENTS if args.incidents else ""))  # fmt: skip
    history = args.device_anomaly
    try:
        figures = {"idle": phase(Settings(), rules, args.alerts, args.spacing, 0, history)}
        for rate in args.rate:
            figures[f"{rate / 1000:g}k/s"] = phase(Settings(), rules, args.alerts, args.spacing, rate, history)
    except BaseException:
        print(f"failed; the processes' logs are in {tmp}", file=sys.stderr)
        raise
    shutil.rmtree(tmp)
    idle = figures["idle"]
    print(f"{args.alerts} alerts per phase, one every {args.spacing:g} s; ms from XADD to webhook received")
    print(f"{'load':<8}{'readings/s':>12}{'p50':>9}{'p95':>9}{'max':>9}{'p95/idle':>10}{'1st/last q p50':>18}")
    for name, f in figures.items():
        print(
            f"{name:<8}{f['rate']:>12,.0f}{f['p50'] * 1e3:>9.1f}{f['p95'] * 1e3:>9.1f}{f['max'] * 1e3:>9.1f}"
            f"{f['p95'] / idle['p95']:>10.2f}{f['first_quarter_p50'] * 1e3:>9.1f}/{f['last_quarter_p50'] * 1e3:.1f}"
        )
    print(f"\n{'stage (ms)':<22}" + "".join(f"{p + ' ' + n:>13}" for n in figures for p in ("p50", "p95")))
    for stage in idle["stages"]:
        print(f"{stage:<22}" + "".join(f"{figures[n]['stages'][stage][p] * 1e3:>13.1f}"
                                       for n in figures for p in ("p50", "p95")))  # fmt: skip
    print(f"\n{'load':<8}{'evaluated/s':>12}{'alerts CPU':>11}{'ingest lag':>11}{'alerts lag':>11}{'others':>8}"
          "  target p95 < 1 s")
    for name, f in figures.items():
        print(
            f"{name:<8}{f['evaluated']:>12,.0f}{f['alerts_cpu']:>10.0%}{f['lag']['ingest']:>11,}"
            f"{f['lag']['alerts']:>11,}{f['other_alerts']:>8}  {'met' if f['p95'] < 1.0 else 'MISSED'}"
        )
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **figures}, indent=2))


if __name__ == "__main__":
    main()
