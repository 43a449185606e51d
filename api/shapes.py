"""What each endpoint answers, built from the rows the existing queries and the live snapshot return (pure).

Only what is listed here leaves the server: an allow-list, never "the row minus some fields", so a column added
to a table later (a note, a name, a description) does not reach the API by accident. No complaint text and no
person's name is ever read into these shapes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

KPI_NAMES = ("devices_online_pct", "readings_per_min", "complaints_today", "complaints_open", "sla_share_pct",
             "median_close_h", "satisfaction_pct", "pue_now", "pue_24h", "energy_saved_pct", "alerts_open")  # fmt: skip
ALERT_FIELDS = ("id", "severity", "rule", "subject", "summary", "status", "value")


def iso(moment: datetime | None) -> str | None:
    """RFC 3339 in UTC."""
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_ms(epoch_ms: int | None) -> str | None:
    return None if epoch_ms is None else iso(datetime.fromtimestamp(epoch_ms / 1000, UTC))


def coarse(value: float | None, decimals: int) -> float | None:
    """A coordinate rounded to ``decimals`` places (3: about 110 m), so a device's exact place is not published."""
    return None if value is None else round(float(value), decimals)


def kpis_now(doc: Mapping) -> dict:
    """The KPIs of the live snapshot: value and the same time yesterday (alerts also by severity)."""
    kpis = {}
    for name in KPI_NAMES:
        kpi = doc.get("kpis", {}).get(name)
        if kpi is None:
            continue
        kpis[name] = {"value": kpi.get("value"), "yesterday": kpi.get("yesterday")}
        if "by_severity" in kpi:
            kpis[name]["by_severity"] = dict(kpi["by_severity"])
    return {"as_of": iso_ms(doc.get("built_ms")), "newest_data": iso_ms(doc.get("newest_ms")), "kpis": kpis}


def energy_weighted(rows: Iterable[Mapping]) -> tuple[float | None, int]:
    """PUE over ``datacenter_series`` rows: total facility energy over total IT energy (never a mean of ratios),
    and the samples it rests on. Each row's means times its samples give back the rollups' sums."""
    facility = it = 0.0
    samples = 0
    for r in rows:
        n = int(r["samples"] or 0)
        facility += (r["facility_kw"] or 0.0) * n
        it += (r["it_kw"] or 0.0) * n
        samples += n
    return (facility / it if it > 0 else None), samples


def kpi_range(complaints: Sequence[Mapping], datacenters: Sequence[Mapping]) -> tuple[list[dict], dict]:
    """Per bucket: new complaints and the city's energy-weighted PUE; and the same over the whole range."""
    buckets: dict[datetime, dict] = {}
    for r in complaints:
        entry = buckets.setdefault(r["bucket"], {"complaints_new": 0, "dc": []})
        entry["complaints_new"] += int(r["requests"])
    for r in datacenters:
        buckets.setdefault(r["bucket"], {"complaints_new": 0, "dc": []})["dc"].append(r)
    rows = [{"bucket": iso(b), "complaints_new": e["complaints_new"], "pue": energy_weighted(e["dc"])[0]}
            for b, e in sorted(buckets.items())]  # fmt: skip
    totals = {"complaints_new": sum(int(r["requests"]) for r in complaints), "pue": energy_weighted(datacenters)[0]}
    return rows, totals


def sensors(rows: Iterable[Mapping], decimals: int) -> list[dict]:
    """``sensor_latest`` rows (ordered by device) as one entry per device with each metric's latest reading."""
    devices: dict[str, dict] = {}
    for r in rows:
        device = devices.get(r["device_id"])
        if device is None:
            device = devices[r["device_id"]] = {
                "id": r["device_id"], "kind": r["kind"], "district": r["district"],
                "lat": coarse(r["lat"], decimals), "lon": coarse(r["lon"], decimals), "readings": [],
            }  # fmt: skip
        device["readings"].append({"metric": r["metric"], "value": r["value"], "unit": r["unit"], "at": iso(r["ts"])})
    return list(devices.values())


def history(rows: Iterable[Mapping], device: str | None) -> list[dict]:
    """``district_series`` / ``device_series`` rows: bucket, district or device, readings, mean, low, high."""
    return [{"bucket": iso(r["bucket"]), "district": r.get("district"), "device": device,
             "readings": int(r["readings"]), "mean": r["mean"], "low": r["low"], "high": r["high"]}
            for r in rows]  # fmt: skip


def complaint_groups(rows: Iterable[Mapping], by: Sequence[str]) -> list[dict]:
    """Complaint aggregate rows: the chosen dimensions, then requests opened and closed."""
    out = []
    for r in rows:
        entry = {dim: iso(r[dim]) if dim == "hour" else r[dim] for dim in by}
        out.append(entry | {"opened": int(r["opened"]), "closed": int(r["closed"])})
    return out


def datacenters(rows: Sequence[Mapping]) -> tuple[list[dict], dict]:
    """Per site and for the city: energy-weighted PUE over the range and the samples behind it."""
    by_site: dict[str, list[Mapping]] = {}
    for r in rows:
        by_site.setdefault(r["site"], []).append(r)
    sites = []
    for site, site_rows in sorted(by_site.items()):
        pue, samples = energy_weighted(site_rows)
        sites.append({"site": site, "pue": pue, "samples": samples})
    pue, samples = energy_weighted(rows)
    return sites, {"pue": pue, "samples": samples}


def alerts(doc: Mapping, decimals: int, severity: str | None) -> tuple[bool, list[dict]]:
    """The snapshot's open alerts, public fields only: no assignee, no notes, no officer's name."""
    block = doc.get("alerts", {})
    items = []
    for a in block.get("items", []):
        if severity and a.get("severity") != severity:
            continue
        item = {f: a.get(f) for f in ALERT_FIELDS}
        item |= {"fired_at": iso_ms(a.get("at_ms")), "lat": coarse(a.get("lat"), decimals),
                 "lon": coarse(a.get("lon"), decimals)}  # fmt: skip
        items.append(item | predicted(a))
    return bool(block.get("available")), items


# A predicted alert's forecast (live/snapshot.py: predicted_fields) by the API's names; null for any other alert.
FORECAST_FIELDS = {"forecast_at": "forecast_ms", "expected_at": "expected_ms", "expected_earliest": "earliest_ms",
                   "expected_latest": "latest_ms"}  # fmt: skip


def predicted(item: Mapping) -> dict:
    """``predicted`` and, for a forecast rule's alert, when the forecast was made, when the level is expected and
    the interval (``expected_latest`` null: no latest), as the evaluator last wrote them."""
    is_predicted = bool(item.get("predicted"))
    return {"predicted": is_predicted} | {
        name: iso_ms(item.get(key)) if is_predicted else None for name, key in FORECAST_FIELDS.items()
    }


def district_features(geojson: Mapping) -> list[dict]:
    """The district outlines' features with their id and names only."""
    return [{"type": "Feature", "id": f["properties"]["id"],
             "properties": {k: v for k, v in f["properties"].items() if k == "id" or k.startswith("name")},
             "geometry": f["geometry"]} for f in geojson.get("features", [])]  # fmt: skip
