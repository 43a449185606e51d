"""Turn the snapshot queries' raw answers into the one JSON document every viewer reads (pure).

The document holds numbers, not formatted text: formatting belongs to the figure builders in ``layouts/``.
``digests`` fingerprints each part a view renders on its own (each KPI, the sensor map, the alerts, the
data-centre sites, the newest reading), so a viewer re-sends only the parts whose fingerprint changed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import orjson

from cities.pack import DEFAULT_CITY, load_city
from cities.schema import Kpi
from live.queries import RATE_WINDOW, CityFacts
from live.thresholds import NORMAL, SEVERITY, STALE, StatusBands, Verdict

ALERT_SEVERITIES = ("critical", "warning", "info")


def ms(moment: datetime | None) -> int | None:
    """Epoch milliseconds of ``moment``."""
    return None if moment is None else int(moment.timestamp() * 1000)


def ratio(top: float | None, bottom: float | None) -> float | None:
    """``top / bottom``, or None when there is nothing to divide by."""
    return None if top is None or not bottom else top / bottom


def sensor_states(facts: CityFacts, bands: StatusBands) -> list[dict]:
    """One entry per device: position, kind, district, worst status over its metrics, its first metric's value,
    and (when not normal) ``why``: the verdict that made it so (``why_of``)."""
    now_ms = ms(facts.windows.now)
    # sorted() is nearly free on rows the query already ordered, and keeps the result (and digests) stable.
    return judge_devices(sorted(facts.sensors), now_ms, bands)


def judge_devices(rows: Iterable[tuple], now_ms: int, bands: StatusBands) -> list[dict]:
    """``(device_id, metric, kind, district, lat, lon, value, unit, ts_ms)`` rows, one per device and metric,
    judged by the status bands at ``now_ms``: one entry per device (see ``sensor_states``)."""
    devices: dict[str, dict] = {}
    worst_of: dict[str, tuple[Verdict, str | None]] = {}
    for device_id, metric, kind, district, lat, lon, value, unit, ts_ms in rows:
        verdict = bands.judge(kind, metric, value, (now_ms - ts_ms) / 1000)
        entry = devices.get(device_id)
        if entry is None:
            devices[device_id] = {"id": device_id, "lat": lat, "lon": lon, "kind": kind, "district": district,
                                  "metric": metric, "value": value, "unit": unit, "ts_ms": ts_ms}
            worst_of[device_id] = (verdict, unit)
        else:
            entry["ts_ms"] = max(entry["ts_ms"], ts_ms)
            if SEVERITY[verdict.status] > SEVERITY[worst_of[device_id][0].status]:
                worst_of[device_id] = (verdict, unit)
    for device_id, entry in devices.items():
        verdict, unit = worst_of[device_id]
        entry["status"] = verdict.status
        if verdict.status != NORMAL:
            entry["why"] = why_of(verdict, unit)
    return list(devices.values())


def latest_devices(rows: Iterable[Mapping], now: datetime, bands: StatusBands) -> list[dict]:
    """``sensor_latest`` rows (dicts: device_id, metric, kind, unit, value, ts, lat, lon, district), judged at
    ``now``: the map's sensors before the first snapshot exists, in the snapshot's shape."""
    return judge_devices(sorted((r["device_id"], r["metric"], r["kind"], r["district"], r["lat"], r["lon"], r["value"],
                                 r["unit"], ms(r["ts"])) for r in rows), ms(now), bands)  # fmt: skip


def why_of(verdict: Verdict, unit: str | None) -> dict:
    """What made a device warning, critical or stale, as numbers (the map's panel words it): the metric, its
    value and unit, the band, the comparison and level crossed, its alert rule; or the silence and the limit."""
    if verdict.status == STALE:
        return {"silent_s": round(verdict.age_s), "stale_after_s": verdict.stale_after_s}
    return {"metric": verdict.metric, "value": verdict.value, "unit": unit,
            "band": verdict.band, "op": verdict.op, "limit": verdict.limit, "rule": verdict.rule_id,
            "alert_after_s": verdict.alert_after_s}


def complaint_kpis(facts: CityFacts) -> dict[str, dict]:
    """Complaints today, open, resolved within SLA, median time to close, satisfaction: now and yesterday."""
    opened = {True: 0, False: 0}
    rated = {True: [0, 0], False: [0, 0]}
    # Without a single complaint event by this time yesterday, yesterday's counts are unknown rather than 0.
    recorded = any(not is_today for _, is_today, *_ in facts.complaint_events)
    for status, is_today, events, sat_n, satisfied_n in facts.complaint_events:
        if status == "open":
            opened[is_today] += int(events)
        rated[is_today][0] += int(sat_n)
        rated[is_today][1] += int(satisfied_n)

    def sla(day: bool) -> float | None:
        closed, within, _ = facts.closures.get(day, (0, 0, None))
        return ratio(100.0 * within, closed)

    def median_h(day: bool) -> float | None:
        median_s = facts.closures.get(day, (0, 0, None))[2]
        return None if median_s is None else float(median_s) / 3600

    return {
        "complaints_today": {"value": opened[True], "yesterday": opened[False] if recorded else None},
        "complaints_open": {"value": facts.open_now, "yesterday": facts.open_yesterday if recorded else None},
        "sla_share_pct": {"value": sla(True), "yesterday": sla(False)},
        "median_close_h": {"value": median_h(True), "yesterday": median_h(False)},
        "satisfaction_pct": {"value": ratio(100.0 * rated[True][1], rated[True][0]),
                             "yesterday": ratio(100.0 * rated[False][1], rated[False][0])},
    }  # fmt: skip


def energy_kpis(energy: dict[str, float | None], pue_baseline: float) -> dict[str, dict]:
    """PUE now and over 24 h, energy-weighted (sum of facility over sum of IT), and the saving against the city's
    baseline PUE (``baseline`` in the KPI, for its label)."""
    pue_day, pue_prev = ratio(energy.get("day_fac"), energy.get("day_it")), ratio(energy.get("prevday_fac"),
                                                                                  energy.get("prevday_it"))

    def saved(pue: float | None) -> float | None:  # same IT energy at the baseline PUE would have cost more
        return None if pue is None else 100.0 * (1 - pue / pue_baseline)

    return {
        "pue_now": {"value": ratio(energy.get("now_fac"), energy.get("now_it")),
                    "yesterday": ratio(energy.get("then_fac"), energy.get("then_it"))},
        "pue_24h": {"value": pue_day, "yesterday": pue_prev},
        "energy_saved_pct": {"value": saved(pue_day), "yesterday": saved(pue_prev), "baseline": pue_baseline},
    }  # fmt: skip


def sensor_kpis(facts: CityFacts, sensors: list[dict]) -> dict[str, dict]:
    """Devices online (not stale) and readings per minute, each with the same time yesterday."""
    online = sum(1 for s in sensors if s["status"] != "stale")
    per_min = RATE_WINDOW.total_seconds() / 60
    # No reading at all at this time yesterday means the city was not being recorded then (a first run), not
    # that every device was offline: there is no figure to compare with.
    recorded = facts.readings_yesterday > 0
    return {
        "devices_online_pct": {"value": ratio(100.0 * online, len(sensors)),
                               "yesterday": ratio(100.0 * facts.devices_seen_yesterday, len(sensors))
                               if recorded else None},
        "readings_per_min": {"value": facts.readings_now / per_min,
                             "yesterday": facts.readings_yesterday / per_min if recorded else None},
    }  # fmt: skip


def site_states(facts: CityFacts) -> list[dict]:
    """Per data-centre site: its latest sample and instantaneous PUE."""
    return [{"site": site, "ts_ms": ms(ts), "facility_kw": fac, "it_kw": it, "pue": ratio(fac, it),
             "inlet_temp_c": temp} for site, ts, fac, it, temp in facts.sites]  # fmt: skip


def alert_markers(alerts: list[dict]) -> list[tuple]:
    """What the maps' alert layer draws: id, severity, position, rule and subject of each placed alert, and for
    a predicted one its lead in minutes (so the markers are redrawn as it shortens)."""
    return [(a["id"], a["severity"], a["lat"], a["lon"], a["rule"], a["subject"], a.get("lead_min")) for a in alerts
            if a["lat"] is not None and a["lon"] is not None]  # fmt: skip


def digest(part: object) -> str:
    """A short fingerprint of a JSON-able part."""
    return hashlib.blake2b(orjson.dumps(part, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


def alert_items(facts: CityFacts, district_centres: Mapping[str, tuple[float, float]]) -> list[dict]:
    """Open alerts, most severe then newest, each placed on the map when its subject has a position.

    A device subject is at the device's last reported position; a district subject at the district's centre;
    anything else (a site, a stream, the city) has no position (``lat``/``lon`` None). A predicted alert (a
    forecast rule's) also carries its forecast, epoch ms, and ``lead_min``: whole minutes from this snapshot's time
    to when the level is expected (0 once that time has passed).
    """
    items = []
    for (alert_id, severity, rule, subject, summary, status, fired_at, value, assignee, lat, lon,
         *prediction) in facts.open_alerts:  # fmt: skip
        if lat is None and subject in district_centres:
            lat, lon = district_centres[subject]
        item = {"id": alert_id, "severity": severity, "rule": rule, "subject": subject, "summary": summary,
                "title": summary, "status": status, "at_ms": ms(fired_at), "value": value,
                "assignee": assignee, "lat": lat, "lon": lon}  # fmt: skip
        items.append(item | predicted_fields(prediction, facts.windows.now))
    return items


def predicted_fields(prediction: Sequence, now: datetime) -> dict:
    """A predicted alert's forecast columns (predicted, forecast_at, expected_at, expected_earliest,
    expected_latest) as the snapshot carries them; nothing for an alert that is not a prediction."""
    if len(prediction) < 5 or not prediction[0] or prediction[2] is None:
        return {}
    _predicted, made, expected, earliest, latest = prediction[:5]
    lead_s = max(0.0, (expected - now).total_seconds())
    return {"predicted": True, "forecast_ms": ms(made), "expected_ms": ms(expected), "earliest_ms": ms(earliest),
            "latest_ms": ms(latest), "lead_min": round(lead_s / 60), "counted_from_ms": ms(now)}


def assemble(facts: CityFacts, bands: StatusBands, district_centres: Mapping[str, tuple[float, float]] | None = None,
             alerting_running: bool = False, kpi: Kpi | None = None) -> dict:  # fmt: skip
    """The snapshot document (without its version, which the builder assigns when storing it); each sensor's
    status is judged by ``bands``, the status bands of the alert rules file (``live/thresholds.py``), and the
    KPIs against ``kpi``, the city pack's targets (None: the default city's).

    Alerts are ``available`` once the alerting tables exist and an evaluator has run (an alert was ever
    recorded, or an evaluator holds its lease now: ``alerting_running``); until then the views say so rather
    than show a reassuring zero.
    """
    sensors = sensor_states(facts, bands)
    sites = site_states(facts)
    alerts_available = facts.alerts_table and (facts.alerts_ever or alerting_running)
    alerts = alert_items(facts, district_centres or {}) if alerts_available else []
    by_severity = {s: int(facts.alerts_by_severity.get(s, 0)) for s in ALERT_SEVERITIES} if alerts_available else {}
    kpi = kpi or load_city(DEFAULT_CITY).file.kpi
    kpis = sensor_kpis(facts, sensors) | complaint_kpis(facts) | energy_kpis(facts.energy, kpi.pue_baseline)
    kpis["alerts_open"] = {"value": sum(by_severity.values()), "yesterday": None, "available": alerts_available,
                           "by_severity": {s: by_severity.get(s, 0) for s in ALERT_SEVERITIES}}  # fmt: skip
    latest = max(sensors, key=lambda s: (s["ts_ms"], s["id"]), default=None)
    newest = [s["ts_ms"] for s in sensors] + [s["ts_ms"] for s in sites] + [ms(facts.complaints_newest) or 0]
    counts = Counter(s["status"] for s in sensors)
    # Past IOC_LIVE_MAX_SENSORS the maps show the first devices by id; the legend says how many are not shown.
    not_shown = max(0, facts.sensors_total - len(sensors))
    doc = {
        "built_ms": ms(facts.windows.now),
        "newest_ms": max(newest, default=0) or None,
        "kpis": kpis,
        "sensors": sensors,
        "sensor_counts": {status: counts.get(status, 0) for status in sorted(SEVERITY, key=SEVERITY.get)}
        | ({"not_shown": not_shown} if not_shown else {}),
        "latest_reading": latest,
        "sites": sites,
        "alerts": {"available": alerts_available, "items": alerts},
    }
    map_part = [(s["id"], s["lat"], s["lon"], s["kind"], s["district"], s["status"]) for s in sensors]
    parts = {f"kpi:{key}": kpi for key, kpi in kpis.items()} | {
        "sensors": map_part, "sensor_counts": doc["sensor_counts"], "alerts": doc["alerts"], "sites": sites,
        "latest_reading": latest, "alert_markers": alert_markers(alerts),
    }  # fmt: skip
    doc["digests"] = {name: digest(part) for name, part in parts.items()}
    return doc

