"""Forecast rules against the truth the simulator knows: lead time on incidents, false warnings on quiet days.

    .venv/bin/python bench/predict.py [--seed 20261124] [--sensors 1000] [--incident-days 12] [--quiet-days 3]

Seeded simulated days run through the evaluator's judges in this process (pure, no Redis, no database): the
simulator's engine makes the readings at its normal cadence (``--sensors`` devices, 0.1 readings/s each, as the
default ``IOC_SIM_SENSORS`` and ``IOC_SIM_READINGS_PER_S``), each reading goes to the rules of the rules file (the
city pack's, ``IOC_CITY``; ``--rules``) that accept it, and the clock ticks every second of simulated time. The
rules never see the incident schedule; only this report does, to score them:

* per incident (river floods and air-quality episodes of the seeded schedule, on days in their season): when it
  started, when the level was first crossed (the plain rule's twin without `for`, i.e. the breach), when the
  plain threshold rule fired (the band's device alert for a gauge, pm25_district_high for a district) and when
  the forecast rule first warned; the lead before the plain rule and the warning's place between start and breach
  (target: at most half-way on >= 80 % of incidents; median lead on floods >= 10 min);
* on days without incidents: warnings of the forecast rules and alerts of the plain rules, per day per 1,000
  sensors (target: <= 1 false warning);
* the evaluator's CPU per reading with the shipped rules and with the same rules less the forecast ones;
* the candidates' accuracy: every closed step of the gauges and districts the rules watch, forecast 10 minutes
  ahead from the rule's window by Theil–Sen (the rules' method), least squares and Holt's damped exponential
  smoothing (statsmodels), scored by absolute error and by how often the 80 % interval held the outcome, in
  quiet hours and in incident ramps, with the cost of one fit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bootstrap  # noqa: E402
from alerts.evaluate import accepts, make_judge  # noqa: E402
from alerts.forecast_judge import ForecastJudge  # noqa: E402
from alerts.rules import load_config  # noqa: E402
from forecast import fit_trend  # noqa: E402
from settings import Settings  # noqa: E402
from simulator import incidents as inc  # noqa: E402
from simulator.engine import CitySimulation, SimConfig  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Which plain rule each forecast rule runs ahead of, and which incidents it is for.
PAIRS = {"water_level_forecast": ("band_water_level_level_m", inc.FLOOD),
         "pm25_district_forecast": ("pm25_district_high", inc.AIR)}  # fmt: skip
TICK_MS = 1000


class Reading(NamedTuple):
    device_id: str
    kind: str
    metric: str
    district: str
    value: float


def run_day(sim: CitySimulation, rules: list, start_ms: int, end_ms: int, series: dict | None = None) -> dict:
    """Feed ``[start_ms, end_ms)`` through fresh judges; (rule id, subject) → times it fired (epoch s)."""
    judges = [make_judge(r, start_ms / 1000) for r in rules]
    routes: dict[int, list] = {}
    fired: dict[tuple[str, str], list[float]] = defaultdict(list)
    channels = sim.channels
    for ms in range(start_ms, end_ms, TICK_MS):
        readings, _ = sim.window_values(ms, ms + TICK_MS)
        now = (ms + TICK_MS) / 1000
        for index, ts_ms, value in readings:
            route = routes.get(index)
            if route is None:
                c = channels[index]
                record = Reading(c.device_id, c.kind, c.metric, c.district, 0.0)
                route = routes[index] = [j for j in judges if accepts(j.rule, record)]
            if not route:
                continue
            c = channels[index]
            record = Reading(c.device_id, c.kind, c.metric, c.district, value)
            for judge in route:
                change = judge.observe(record, ts_ms / 1000, now)
                if change is not None and change.firing:
                    fired[(judge.rule.id, change.subject)].append(now)
        for judge in judges:
            for change in judge.tick(now):
                if change.firing:
                    fired[(judge.rule.id, change.subject)].append(now)
    if series is not None:
        for judge in judges:
            if isinstance(judge, ForecastJudge):
                series[judge.rule.id] = judge
    return {"fired": fired, "fits": sum(j.fits for j in judges if isinstance(j, ForecastJudge))}


def rules_for_bench(path: Path) -> list:
    """The forecast rules, their plain rules, and each plain rule's twin without a hold (the breach itself)."""
    by_id = {r.id: r for r in load_config(path).rules}
    chosen = []
    for forecast_id, (plain_id, _) in PAIRS.items():
        plain = by_id[plain_id]
        chosen += [by_id[forecast_id], plain, replace(plain, id=f"{plain_id}__breach", for_s=0.0)]
    return chosen


def incident_days(sim: CitySimulation, seed: int, wanted: int, first: date) -> list[tuple[date, list]]:
    """The first ``wanted`` days from ``first`` with a flood or an air incident on the seeded schedule."""
    found, day = [], first
    while len(found) < wanted and day < first + timedelta(days=400):
        todays = [i for i in sim.incidents._day(day) if i.kind in (inc.FLOOD, inc.AIR)]
        if todays:
            found.append((day, todays))
        day += timedelta(days=1)
    return found


def subject_of_incident(sim: CitySimulation, incident: inc.Incident) -> str:
    return incident.target  # a gauge's device id (floods) or a district id (air): the rules' subjects


def score_incidents(sim: CitySimulation, rules: list, days: list) -> list[dict]:
    rows = []
    for day, todays in days:
        for incident in todays:
            start = incident.start_ms
            # the hour before (the window fills), the ramp, and half an hour past it
            result = run_day(sim, rules, start - 3_600_000, start + inc.PROFILES[incident.kind][0] + 1_800_000)
            forecast_id = next(f for f, (_, kind) in PAIRS.items() if kind == incident.kind)
            plain_id = PAIRS[forecast_id][0]
            subject = subject_of_incident(sim, incident)
            s = start / 1000

            def first(rule_id: str, s: float = s, subject: str = subject, result: dict = result) -> float | None:
                times = [t for t in result["fired"].get((rule_id, subject), []) if t >= s]
                return min(times) if times else None

            warn, breach, plain = first(forecast_id), first(f"{plain_id}__breach"), first(plain_id)
            early = [t for t in result["fired"].get((forecast_id, subject), []) if s - 3600 <= t < s]
            rows.append({"kind": incident.kind, "target": subject, "day": day, "start": s, "warn": warn,
                         "breach": breach, "plain": plain, "before_start": len(early),
                         "others": sum(1 for (r, subj), t in result["fired"].items() if r == forecast_id
                                       and subj != subject)})  # fmt: skip
    return rows


def quiet(settings: Settings, city, seed: int, sensors: int, dates: list[date], rules: list) -> dict:
    sim = CitySimulation(
        city,
        SimConfig(
            seed=seed,
            sensors=sensors,
            readings_per_s=sensors * 0.1,
            complaints_per_hour=1.0,
            datacenter_sites=1,
            scheduled_incidents=False,
            pack=settings.city_pack,
            timezone=settings.city_timezone,
        ),
    )
    counts: dict[str, int] = defaultdict(int)
    fits = 0
    days = len(dates)
    for day in dates:
        start = sim.clock.day_start_ms(day)
        result = run_day(sim, rules, start, start + 86_400_000)
        fits += result["fits"]
        for (rule_id, _), times in result["fired"].items():
            counts[rule_id] += len(times)
    return {"per_day_per_1000": {r: c / days * 1000 / sensors for r, c in counts.items()}, "fits_per_day": fits / days,
            "counts": dict(counts)}  # fmt: skip


# --- the candidates' accuracy ---------------------------------------------------------------------------------
def step_means(sim: CitySimulation, targets: dict[str, list[int]], start_ms: int, end_ms: int) -> dict[str, list]:
    """1-minute means of each target (a set of channel indices) over the span."""
    sums: dict[str, dict[int, list[float]]] = {t: defaultdict(lambda: [0.0, 0]) for t in targets}
    owner = {i: t for t, indices in targets.items() for i in indices}
    for ms in range(start_ms, end_ms, 10_000):
        readings, _ = sim.window_values(ms, ms + 10_000)
        for index, ts, value in readings:
            t = owner.get(index)
            if t is not None:
                cell = sums[t][ts // 60_000]
                cell[0] += value
                cell[1] += 1
    return {t: [(m * 60.0 + 30, s / c) for m, (s, c) in sorted(cells.items())] for t, cells in sums.items()}


def holt(x: np.ndarray, y: np.ndarray, ahead_steps: int) -> tuple[float, float, float]:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ETSModel(pd.Series(y), error="add", trend="add", damped_trend=True).fit(disp=False, maxiter=200)
        frame = fit.get_prediction(start=len(y), end=len(y) + ahead_steps - 1).summary_frame(alpha=0.2)
    row = frame.iloc[-1]
    return float(row["mean"]), float(row["pi_lower"]), float(row["pi_upper"])


def ols(x: np.ndarray, y: np.ndarray, ahead_s: float) -> tuple[float, float, float]:
    from scipy import stats

    fit = stats.linregress(x, y)
    n = len(x)
    resid = y - (fit.intercept + fit.slope * x)
    s = float(np.sqrt(np.sum(resid**2) / (n - 2)))
    x0 = x[-1] + ahead_s
    se = s * np.sqrt(1 + 1 / n + (x0 - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2))
    t = stats.t.ppf(0.9, n - 2)
    mean = fit.intercept + fit.slope * x0
    return mean, mean - t * se, mean + t * se


def theil(x: np.ndarray, y: np.ndarray, ahead_s: float) -> tuple[float, float, float]:
    trend = fit_trend(x, y, 0.8)
    return trend.value(trend.at + ahead_s)


def accuracy(series: dict[str, list], ramps: dict[str, tuple[float, float]], window: int, ahead: int,
             limit: int) -> dict:  # fmt: skip
    """Per method and regime (quiet, ramp): MAE, 80 % coverage, µs per fit, over at most ``limit`` forecasts each."""
    methods = {
        "theil_sen": lambda x, y: theil(x, y, ahead * 60.0),
        "least_squares": lambda x, y: ols(x, y, ahead * 60.0),
        "holt_damped": lambda x, y: holt(x, y, ahead),
    }
    cases: dict[str, list] = {"quiet": [], "ramp": []}
    for target, points in series.items():
        span = ramps.get(target)
        for k in range(window, len(points) - ahead):
            t_now = points[k - 1][0]
            regime = "ramp" if span and span[0] <= t_now <= span[1] else "quiet"
            cases[regime].append((points[k - window : k], points[k - 1 + ahead][1]))
    out = {}
    for regime, found in cases.items():
        chosen = found if len(found) <= limit else [found[i * len(found) // limit] for i in range(limit)]
        for name, method in methods.items():
            errors, inside, spent = [], 0, 0.0
            for window_points, actual in chosen:
                x = np.array([p[0] for p in window_points])
                y = np.array([p[1] for p in window_points])
                began = time.perf_counter()
                mean, low, high = method(x, y)
                spent += time.perf_counter() - began
                errors.append(abs(mean - actual))
                inside += low <= actual <= high
            if chosen:
                out[(name, regime)] = {"mae": statistics.fmean(errors), "coverage": inside / len(chosen),
                                       "us": spent / len(chosen) * 1e6, "n": len(chosen)}  # fmt: skip
    return out


# --- the evaluator's cost with and without the forecast rules ---------------------------------------------------
def evaluator_cost(sim: CitySimulation, path: Path, flood: inc.Incident | None, minutes: int, rounds: int) -> dict:
    """CPU µs per reading of ``Evaluator.observe`` (batches of 1,000, a tick after each) over the same simulated
    readings, with the shipped rules and with the same rules less the forecast ones; the minimum of ``rounds``
    alternated passes. The span ends at a flood's breach, so the gauge's refits are in it."""
    from alerts.evaluate import Evaluator
    from streams.iot import SensorReading

    end_ms = (flood.start_ms + 27 * 60_000) if flood else sim.clock.day_start_ms(date(2026, 8, 3)) + 43_200_000
    start_ms = end_ms - minutes * 60_000
    records = []
    for ms in range(start_ms, end_ms, 10_000):
        readings, _ = sim.window_values(ms, ms + 10_000)
        for index, ts, value in readings:
            c = sim.channels[index]
            records.append(SensorReading(datetime.fromtimestamp(ts / 1000, UTC), c.device_id, c.kind, c.metric, value,
                                         "", 22.5, 114.0, c.district, None, f"{ts}-0"))  # fmt: skip
    shipped = load_config(path).rules
    sets = {"without forecast rules": [r for r in shipped if r.type != "forecast"], "shipped rules": shipped}
    best = {name: float("inf") for name in sets}
    for _ in range(rounds):
        for name, rules in sets.items():
            evaluator = Evaluator(rules, started=start_ms / 1000)
            began = time.process_time()
            for k in range(0, len(records), 1000):
                batch = records[k : k + 1000]
                now = batch[-1].ts.timestamp()
                evaluator.observe("iot", batch, now)
                evaluator.tick(now)
            best[name] = min(best[name], (time.process_time() - began) / len(records) * 1e6)
    return {"readings": len(records), "us_per_reading": best}


def minutes(value: float | None) -> str:
    return "-" if value is None else f"{value / 60:.1f}"


def report_incidents(rows: list[dict]) -> dict:
    print(f"{'incident':<34}{'breach':>8}{'plain':>8}{'warned':>8}{'lead':>8}{'share':>8}  (minutes after start; "
          "lead = plain - warned; share = warned / breach)")  # fmt: skip
    halfway, leads = [], defaultdict(list)
    for r in rows:
        breach = None if r["breach"] is None else r["breach"] - r["start"]
        plain = None if r["plain"] is None else r["plain"] - r["start"]
        warn = None if r["warn"] is None or (r["breach"] and r["warn"] > r["breach"]) else r["warn"] - r["start"]
        lead = None if warn is None or plain is None else plain - warn
        share = None if warn is None or not breach else warn / breach
        if breach is not None:
            halfway.append(share is not None and share <= 0.5)
            leads[r["kind"]].append(lead if lead is not None else 0.0)
        print(f"{r['kind'] + ' ' + r['target'] + ' ' + r['day'].isoformat():<34}{minutes(breach):>8}"
              f"{minutes(plain):>8}{minutes(warn):>8}{minutes(lead):>8}"
              f"{'-' if share is None else f'{share:.2f}':>8}")  # fmt: skip
    summary = {"incidents": len(halfway), "halfway_share": sum(halfway) / len(halfway) if halfway else 0.0,
               "median_lead_min": {k: statistics.median(v) / 60 for k, v in leads.items()},
               "warnings_on_other_subjects": sum(r["others"] for r in rows),
               "warnings_in_the_hour_before": sum(r["before_start"] for r in rows)}  # fmt: skip
    print(
        f"\nwarned at least half-way from start to breach: {summary['halfway_share']:.0%} of "
        f"{summary['incidents']} incidents (target >= 80 %)"
    )
    for kind, lead in summary["median_lead_min"].items():
        print(f"median lead before the plain rule, {kind}: {lead:.1f} min" + (" (target >= 10)" if kind == inc.FLOOD
                                                                              else ""))  # fmt: skip
    print(
        f"forecast warnings on other subjects during those runs: {summary['warnings_on_other_subjects']}; "
        f"on the incident's subject in the hour before it: {summary['warnings_in_the_hour_before']}"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--sensors", type=int, default=1000)
    parser.add_argument("--incident-days", type=int, default=12, help="days with incidents (half floods, half air)")
    parser.add_argument("--quiet-days", type=int, default=4, help="days without incidents, half summer, half winter")
    parser.add_argument("--rules", type=Path, default=None, help="default: the city pack's (IOC_CITY)")
    parser.add_argument("--cost", type=int, default=30, help="simulated minutes for the cost per reading (0: skip)")
    parser.add_argument("--accuracy", type=int, default=300, help="forecasts per method and regime (0: skip)")
    args = parser.parse_args()
    settings = Settings()
    args.rules = args.rules or settings.alert_rules_file
    city = bootstrap.city_map(settings)
    rules = rules_for_bench(args.rules)
    started = time.perf_counter()
    sim = CitySimulation(city, SimConfig(seed=args.seed, sensors=args.sensors, readings_per_s=args.sensors * 0.1,
                                         complaints_per_hour=1.0, datacenter_sites=1, pack=settings.city_pack,
                                         timezone=settings.city_timezone))  # fmt: skip
    days = (incident_days(sim, args.seed, args.incident_days - args.incident_days // 2, date(2026, 7, 1))
            + incident_days(sim, args.seed, args.incident_days // 2, date(2026, 12, 1)))  # fmt: skip
    rows = score_incidents(sim, rules, days)
    print(f"seed {args.seed}, {args.sensors} sensors at 0.1 readings/s each; rules from {args.rules.name}\n")
    summary = report_incidents(rows)
    if args.quiet_days:
        # half in the rainy summer, half in the hazy winter (PM2.5 highest, its forecasts most tempted)
        dates = [date(2026, 8, 3) + timedelta(days=n) for n in range(args.quiet_days - args.quiet_days // 2)]
        dates += [date(2027, 1, 11) + timedelta(days=n) for n in range(args.quiet_days // 2)]
        q = quiet(settings, city, args.seed, args.sensors, dates, rules)
        print(
            f"\nquiet days ({', '.join(d.isoformat() for d in dates)}; no incidents): alerts per day per 1,000 "
            "sensors (target for the forecast rules: <= 1)"
        )
        for rule in rules:
            print(f"  {rule.id:<34}{q['per_day_per_1000'].get(rule.id, 0.0):>8.2f}")
        print(f"  Theil–Sen fits per day (all forecast subjects): {q['fits_per_day']:,.0f}")
    if args.cost:
        flood = next((i for _, todays in days for i in todays if i.kind == inc.FLOOD), None)
        cost = evaluator_cost(sim, args.rules, flood, args.cost, 3)
        print(
            f"\nthe evaluator's CPU per reading over {args.cost} simulated minutes ending at a flood's breach "
            f"({cost['readings']:,} readings, best of 3):"
        )
        for name, us in cost["us_per_reading"].items():
            print(f"  {name:<26}{us:>8.2f} µs")
    if args.accuracy:
        accuracy_report(sim, rows, args.accuracy)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    del summary


def accuracy_report(sim: CitySimulation, rows: list[dict], limit: int) -> None:
    series: dict[str, dict[str, list]] = {inc.FLOOD: {}, inc.AIR: {}}
    ramps = {}
    for r in rows:
        start_ms = int(r["start"] * 1000)
        if r["kind"] == inc.FLOOD:
            targets = {r["target"]: sim._gauges[r["target"]]}
            quiet_gauge = next(g for g in sorted(sim._gauges) if g != r["target"])
            targets[quiet_gauge] = sim._gauges[quiet_gauge]
        else:
            targets = {r["target"]: [i for i in sim._air[r["target"]] if sim.channels[i].metric == "pm25"]}
        ramp = inc.PROFILES[r["kind"]][0] / 1000
        for target, points in step_means(sim, targets, start_ms - 3_600_000, start_ms + int(ramp * 1000)).items():
            series[r["kind"]][f"{target}@{r['day']}"] = points
        ramps[f"{r['target']}@{r['day']}"] = (r["start"], r["start"] + ramp)
    print(
        "\nforecast 10 minutes ahead from the last 10 one-minute means; floods: a gauge in m (the flooded one and "
        "another), air: a district's PM2.5 in µg/m³"
    )
    print(f"{'kind':<7}{'method':<16}{'regime':<8}{'MAE':>9}{'80% coverage':>14}{'µs per fit':>12}{'n':>6}")
    for kind, found_series in series.items():
        found = accuracy(found_series, ramps, window=10, ahead=10, limit=limit)
        for (name, regime), f in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            print(f"{kind:<7}{name:<16}{regime:<8}{f['mae']:>9.3f}{f['coverage']:>14.0%}{f['us']:>12,.0f}{f['n']:>6}")


if __name__ == "__main__":
    main()
