"""How often an anomaly rule fires on the simulator's ordinary days: the rules file's anomaly rules, the real
evaluator, simulated days.

    [IOC_CITY=new-york] .venv/bin/python bench/anomaly_days.py [--days 42] [--rate 20] [--rules FILE] [--jam nanshan]
                                                               [--shift DEVICE] [--by 10]

The seeded city (the city pack, ``IOC_CITY``: its devices, districts, time zone and rules file; ``IOC_SIM_*`` sizes)
is simulated for ``--days`` days at ``--rate`` readings a second (coarser than the live 200/s, so each window mean
is noisier than live: the count is an upper bound for these rules). Hourly means per district and metric are kept as
the rollups keep them; per device, the evaluator's own ``DeviceHours`` counts them and each simulated hour its
closed hours go into a dictionary standing in for ``device_rollup_1h``. Every simulated hour the anomaly rules get
baselines from the hours before it as ``alerts/baselines.py`` (districts) and ``alerts/device_baselines.py``
(devices: only the hours of the day the next hour can be judged by, median and MAD per device and hour) load them,
and every reading of their metrics goes through ``Evaluator.observe`` (ticks every simulated minute). Printed: each
alert that fired (rule, subject, local time, summary), and per rule the firings per subject-day (a district's or a
device's) once ``min_history`` days know every hour, and how close the ordinary days came: per subject and day, the
most extreme score in the rule's direction (judged once a simulated minute). Traffic and noise have no incidents in
the simulator, so every day is an ordinary one for them (weekends included, which differ from weekdays).

``--jam DISTRICT`` halves the readings of the rules' metrics in that district from 07:30 to 09:30 local time on
the last simulated weekday, so the run also shows whether the rule sees what it is for (those alerts are listed
but not counted as false). ``--shift DEVICE`` adds ``--by`` (10 by default, in the metric's units) to that device's
readings from 01:00 to 03:00 local time on the last simulated day (a noise sensor beside night-time works), for the
per-device rules.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bootstrap  # noqa: E402
from alerts.anomaly import LocalHours, baselines_from_days, score  # noqa: E402
from alerts.device_hours import buckets_wanted, hours_wanted  # noqa: E402
from alerts.evaluate import Evaluator, accepts  # noqa: E402
from alerts.rules import load_rules  # noqa: E402
from settings import Settings  # noqa: E402
from simulator.clock import DAY_MS, HOUR_MS  # noqa: E402
from simulator.engine import CitySimulation, SimConfig  # noqa: E402
from streams.iot import SensorReading  # noqa: E402

STEP_MS = 60_000  # one simulated window a minute: day shapes are evaluated per window
REFRESH_S = 3600.0  # the worker's IOC_ALERT_BASELINE_REFRESH_S: per-device rules load the hours it can reach


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--rules", type=Path, default=None, help="default: the city pack's (IOC_CITY)")
    parser.add_argument("--jam", default=None, help="a district whose readings halve on the last weekday morning")
    parser.add_argument("--shift", default=None, help="a device whose readings rise on the last night, 01:00-03:00")
    parser.add_argument("--by", type=float, default=10.0, help="how much --shift adds (the metric's units)")
    args = parser.parse_args()
    settings = Settings()
    args.rules = args.rules or settings.alert_rules_file
    rules = [r for r in load_rules(args.rules) if r.type == "anomaly"]
    if not rules:
        sys.exit(f"{args.rules}: no anomaly rule")
    sim = CitySimulation(bootstrap.city_map(settings), SimConfig(
        seed=settings.sim_seed, sensors=settings.sim_sensors, readings_per_s=args.rate, complaints_per_hour=1.0,
        datacenter_sites=1, scheduled_incidents=False, pack=settings.city_pack,
        timezone=settings.city_timezone))  # fmt: skip
    zone = settings.city_timezone
    watched = {(c.kind, c.metric, c.district) for c in sim.channels}
    probe = {key: [r.id for r in rules if accepts(r, _Probe(*key))] for key in watched}
    channels = [(c, probe[(c.kind, c.metric, c.district)]) for c in sim.channels]
    end_ms = (int(time.time() * 1000) // HOUR_MS) * HOUR_MS
    start_ms = end_ms - args.days * DAY_MS
    evaluator = Evaluator(rules, started=start_ms / 1000)
    hours: dict[tuple[str, str], dict[float, list[float]]] = {}  # (rule, district) → hour start → [n, sum]
    table: dict[tuple[str, str, float], list[float]] = {}  # device_rollup_1h: (metric, device, hour) → [n, sum]
    fired: dict[str, list[tuple[str, float, str]]] = {r.id: [] for r in rules}
    judged_from = start_ms + max(r.min_history for r in rules) * DAY_MS
    jam = _jam_hours(sim, end_ms) if args.jam else (0, 0)
    shift = _night_hours(sim, end_ms) if args.shift else (0, 0)
    worst: dict[tuple[str, str, str], float] = {}  # (rule, subject, local date) → most extreme score
    devices = {r.id: {c.device_id for c in sim.channels if accepts(r, c)} for r in rules if r.subject == "device"}
    began = time.monotonic()
    for ms in range(start_ms, end_ms, STEP_MS):
        if ms % HOUR_MS == 0:
            _write_device_hours(evaluator, table, ms)
            _refresh(evaluator, rules, hours, ms, zone)
            _refresh_devices(evaluator, rules, table, devices, ms, zone)
        readings = []
        jammed, shifted = jam[0] <= ms < jam[1], shift[0] <= ms < shift[1]
        for index, ts, value in sim.window_values(ms, ms + STEP_MS)[0]:
            channel, rule_ids = channels[index]
            if not rule_ids:
                continue
            if jammed and channel.district == args.jam:
                value *= 0.5
            if shifted and channel.device_id == args.shift:
                value += args.by
            hour = (ts // HOUR_MS) * HOUR_MS / 1000
            for rule_id in rule_ids:
                if rule_id in devices:
                    continue  # the evaluator's DeviceHours counts these
                acc = hours.setdefault((rule_id, channel.district), {}).setdefault(hour, [0, 0.0])
                acc[0] += 1
                acc[1] += value
            readings.append(SensorReading(datetime.fromtimestamp(ts / 1000, UTC), channel.device_id, channel.kind,
                                          channel.metric, value, "", 0.0, 0.0, channel.district, None, ""))  # fmt: skip
        now = (ms + STEP_MS) / 1000
        for condition in evaluator.observe("iot", readings, now) + evaluator.tick(now):
            if condition.firing and ms >= judged_from:
                fired[condition.rule_id].append((condition.subject, now, condition.summary))
        if ms >= judged_from:
            # The jammed district's (the shifted device's) scores are the event's until its last reading has left
            # the window.
            skip = {args.jam if jam[0] <= ms < jam[1] + HOUR_MS else None,
                    args.shift if shift[0] <= ms < shift[1] + HOUR_MS else None}  # fmt: skip
            _extremes(evaluator, rules, worst, skip)
    districts = len({c.district for c in sim.channels})
    judged_days = (end_ms - judged_from) / DAY_MS
    print(
        f"{args.days} simulated days at {args.rate:g} readings/s, {settings.sim_sensors} sensors, "
        f"{districts} districts, {time.monotonic() - began:.0f} s"
    )
    for rule in rules:
        for subject, at, summary in fired[rule.id]:
            local = datetime.fromtimestamp(at, UTC).astimezone(evaluator.judges[rule.id].baselines.hour_of.zone)
            print(f"  {rule.id} {subject} {local:%a %Y-%m-%d %H:%M}: {summary}")
        false = [(subject, at) for subject, at, _ in fired[rule.id]
                 if not (subject == args.jam and jam[0] / 1000 <= at <= jam[1] / 1000 + 3600)
                 and not (subject == args.shift and shift[0] / 1000 <= at <= shift[1] / 1000 + 3600)]  # fmt: skip
        subjects, unit = (len(devices[rule.id]), "device") if rule.subject == "device" else (districts, "district")
        per = len(false) / (subjects * judged_days)
        print(f"{rule.id}: {len(false)} alerts on ordinary days in {judged_days:.0f} judged days × {subjects} "
              f"{unit}s = {per:.4f} per {unit}-day")
        scores = sorted(v for (rule_id, _, _), v in worst.items() if rule_id == rule.id)
        if scores:
            print(f"  most extreme score per {unit}-day ({len(scores)}), spreads toward {rule.direction}: "
                  f"median {_percentile(scores, 0.5):.2f}, 95th percentile {_percentile(scores, 0.95):.2f}, "
                  f"highest {scores[-1]:.2f} (fires beyond {rule.threshold:g})")  # fmt: skip


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _jam_hours(sim: CitySimulation, end_ms: int) -> tuple[int, int]:
    """07:30 to 09:30 local time on the last full weekday before ``end_ms``."""
    day_ms = end_ms - DAY_MS
    while sim.clock.is_weekend(day_ms):
        day_ms -= DAY_MS
    local_hour = sim.clock.local_hour(day_ms)
    start = day_ms - int(local_hour * HOUR_MS) + int(7.5 * HOUR_MS)
    return start, start + 2 * HOUR_MS


def _night_hours(sim: CitySimulation, end_ms: int) -> tuple[int, int]:
    """01:00 to 03:00 local time on the last full day before ``end_ms``."""
    day_ms = end_ms - DAY_MS
    start = day_ms - int(sim.clock.local_hour(day_ms) * HOUR_MS) + HOUR_MS
    return start, start + 2 * HOUR_MS


def _extremes(evaluator: Evaluator, rules: list, worst: dict, skip: set[str | None]) -> None:
    """Each subject's score now (but those in ``skip``), kept if it is the most extreme of its local day in the
    rule's direction."""
    for rule in rules:
        judge = evaluator.judges[rule.id]
        if judge.baselines is None:
            continue
        sign = {"above": 1.0, "below": -1.0}.get(rule.direction)
        for subject, window in judge.windows.items():
            if subject in skip:
                continue
            hour, baseline = judge.baseline_for(subject, window)
            if baseline is None or baseline.days < rule.min_history or not len(window):
                continue
            signed = score(window.reduce("mean"), baseline, rule.min_mad)
            toward = signed * sign if sign else abs(signed)
            day = datetime.fromtimestamp(window.newest, judge.baselines.hour_of.zone).date().isoformat()
            key = (rule.id, subject, day)
            if toward > worst.get(key, float("-inf")):
                worst[key] = toward


class _Probe:
    """A reading's routing fields, for ``accepts``."""

    def __init__(self, kind: str, metric: str, district: str) -> None:
        self.kind, self.metric, self.district = kind, metric, district


def _refresh(evaluator: Evaluator, rules: list, hours: dict, ms: int, zone: str) -> None:
    """Baselines at ``ms`` as the worker loads them: each district's hourly means of the last days before it."""
    until = ms / 1000
    for rule in rules:
        if rule.subject == "device":
            continue
        since = until - rule.baseline_days * 86400
        rows = [(district, hour, acc[1] / acc[0]) for (rule_id, district), by_hour in hours.items()
                if rule_id == rule.id for hour, acc in by_hour.items() if since <= hour < until]  # fmt: skip
        evaluator.set_baselines(rule.id, baselines_from_days(rows, zone, rule.baseline_days))



def _write_device_hours(evaluator: Evaluator, table: dict, ms: int) -> None:
    """What the worker writes: the evaluator's closed device-hours, added to the table (hours that ended by ``ms``
    are closed first, as the clock would within two minutes)."""
    hours = evaluator.device_hours
    if hours is None:
        return
    hours.close_before(ms / 1000)
    for h in hours.pending():
        row = table.setdefault((h.metric, h.device_id, h.bucket), [0, 0.0])
        row[0] += h.readings
        row[1] += h.value_sum
    hours.written()


def _refresh_devices(evaluator: Evaluator, rules: list, table: dict, devices: dict, ms: int, zone: str) -> None:
    """Per-device rules' baselines at ``ms`` as ``alerts/device_baselines.py`` loads them: only the buckets of the
    hours of the day the next refresh can reach, median and MAD per device and local hour."""
    hour_of = LocalHours(zone)
    for rule in rules:
        if rule.subject != "device":
            continue
        wanted = hours_wanted(ms / 1000, rule.window_s, REFRESH_S, hour_of)
        buckets = buckets_wanted(ms / 1000, rule.baseline_days, wanted, hour_of)
        rows = [(device, bucket, row[1] / row[0]) for bucket in buckets for device in devices[rule.id]
                if (row := table.get((rule.metric, device, bucket))) is not None]  # fmt: skip
        evaluator.set_baselines(rule.id, baselines_from_days(rows, zone, rule.baseline_days))


if __name__ == "__main__":
    main()
