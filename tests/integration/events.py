"""Valid contract entries for the integration tests (positions inside real Shenzhen districts)."""

from __future__ import annotations

import itertools

FUTIAN = ("22.5431", "114.0596")
NANSHAN = ("22.5329", "113.9305")
_ids = itertools.count()


def reading(device: str = "aq-1", value: float = 30.0, ts: int | str | None = None, **extra: str) -> dict[str, str]:
    lat, lon = FUTIAN if int(device.rsplit("-", 1)[-1] or 0) % 2 else NANSHAN
    fields = {"device_id": device, "kind": "air_quality", "metric": "pm25", "value": str(value), "unit": "ug/m3",
              "lat": lat, "lon": lon}
    if ts is not None:
        fields["ts"] = str(ts)
    return fields | extra


def complaint(request_id: str, status: str, ts: int, satisfaction: int | None = None) -> dict[str, str]:
    fields = {"request_id": request_id, "status": status, "category": "noise", "district": "futian",
              "lat": FUTIAN[0], "lon": FUTIAN[1], "channel": "hotline", "ts": str(ts)}
    if satisfaction is not None:
        fields["satisfaction"] = str(satisfaction)
    return fields


def sample(site: str, facility_kw: float, it_kw: float, ts: int) -> dict[str, str]:
    return {"site": site, "facility_kw": str(facility_kw), "it_kw": str(it_kw), "inlet_temp_c": "24", "ts": str(ts)}


def fill(client, stream: str, entries, chunk: int = 2000) -> list[bytes]:
    """XADD many entries with pipelines; returns their ids."""
    ids: list[bytes] = []
    pipe = client.pipeline(transaction=False)
    for n, fields in enumerate(entries, 1):
        pipe.xadd(stream, fields)
        if n % chunk == 0:
            ids += pipe.execute()
    ids += pipe.execute()
    return ids
