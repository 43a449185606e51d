"""A deterministic city-shaped workload for the benchmarks: many sensors, a few complaints and DC samples."""

from __future__ import annotations

import random
import time

# Points well inside Shenzhen districts (WGS-84), so every reading passes the contract.
SPOTS = [
    ("22.5431", "114.0596"),
    ("22.5329", "113.9305"),
    ("22.5482", "114.1315"),
    ("22.6545", "114.0249"),
    ("22.7206", "114.2468"),
    ("22.5766", "113.8890"),
    ("22.7470", "113.9360"),
    ("22.6920", "114.3470"),
]
KINDS = [
    ("air_quality", "pm25", "ug/m3", 35.0),
    ("traffic", "speed_kmh", "km/h", 42.0),
    ("water_level", "level_m", "m", 2.1),
    ("noise", "laeq_db", "dB(A)", 58.0),
    ("power", "load_mw", "MW", 12.0),
]
T0_MS = int(time.time() * 1000) - 6 * 3_600_000  # recent, so retention keeps it


SPREAD_DEG = 0.004  # about 400 m: every spot has at least that much of its district around it


def city_workload(
    readings: int, sensors: int, rng: random.Random, *, own_positions: bool = False
) -> dict[str, list[dict[str, str]]]:
    """``readings`` IoT readings from ``sensors`` devices, plus complaints (1 %) and DC samples (0.2 %).

    Devices stand on a few well-known spots, or with ``own_positions`` each at a position of its own near one
    (as at city scale, where the parser's memory of positions and devices rarely helps)."""
    devices = []
    for n in range(sensors):
        kind, metric, unit, typical = KINDS[n % len(KINDS)]
        lat, lon = SPOTS[rng.randrange(len(SPOTS))]
        if own_positions:
            lat = f"{float(lat) + rng.uniform(-SPREAD_DEG, SPREAD_DEG):.6f}"
            lon = f"{float(lon) + rng.uniform(-SPREAD_DEG, SPREAD_DEG):.6f}"
        devices.append(
            {
                "device_id": f"{kind}-{n:06d}",
                "kind": kind,
                "metric": metric,
                "unit": unit,
                "lat": lat,
                "lon": lon,
                "_typical": typical,
            }
        )
    iot = []
    for i in range(readings):
        device = devices[rng.randrange(sensors)]
        fields = {k: v for k, v in device.items() if not k.startswith("_")}
        fields["value"] = f"{device['_typical'] * rng.uniform(0.5, 1.5):.2f}"
        fields["ts"] = str(T0_MS + i)
        iot.append(fields)
    complaints = []
    for i in range(readings // 100):
        lat, lon = SPOTS[0]
        complaints.append(
            {
                "request_id": f"SZ-{i // 2}",
                "status": "open" if i % 2 == 0 else "closed",
                "category": "noise",
                "district": "futian",
                "lat": lat,
                "lon": lon,
                "channel": "app",
                "ts": str(T0_MS + i * 1000),
                **({"satisfaction": "5"} if i % 2 else {}),
            }
        )
    samples = [
        {
            "site": f"dc-{i % 4}",
            "facility_kw": "1250",
            "it_kw": "1000",
            "inlet_temp_c": "24.5",
            "ts": str(T0_MS + i * 1000),
        }
        for i in range(readings // 500)
    ]
    return {"iot": iot, "complaints": complaints, "datacenter": samples}
