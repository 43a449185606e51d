"""Per-device hourly means for the per-device anomaly rules, kept by the evaluator as it judges (pure: no I/O).

A district's baseline comes from ``sensor_rollup_1h``, which ingest writes for every reading. A device's comes from
``device_rollup_1h`` (migration 0016), written by the evaluator alone and only for what a per-device anomaly rule
watches: ingest is the hot path (~100,000 readings/s) and a per-reading upsert there would add a row per reading to
every transaction. The evaluator already sees each reading such a rule judges, so ``DeviceHours`` sits in the
evaluator's routing beside those rules' judges: per (metric, device) it adds each reading to the running sum and
count of its hour (event time, UTC hours). When a reading of a later hour arrives, or the evaluator's clock has
passed the hour's end (a device gone silent), the hour is *closed*: queued for the worker, which writes the queue
with one upsert now and then (``alerts/device_baselines.py``). The table adds what it is given (sums and counts), so
a reading arriving after its hour was written, a leader's partial first hour and the previous leader's last one all
add up to the hour instead of replacing it.

Memory is bounded twice: at most ``max_devices`` open hours (a producer inventing device ids is refused and
counted), at most ``max_closed`` hours waiting to be written (a database away for hours: the newest are dropped and
counted, and those devices' baselines miss an hour, which the median shrugs off).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from alerts.anomaly import Baseline, Baselines, LocalHours

MAX_DEVICES = 200_000  # like the evaluator's memory of places (alerts/worker.py PLACES_LIMIT)
MAX_CLOSED = 400_000  # two hours of 200,000 devices, or forty of 10,000, waiting for the database
CLOSE_AFTER_S = 120.0  # an hour is closed by the clock this long after it ended without a later reading


class HourMean(NamedTuple):
    """One device's readings of one metric in one hour (``bucket``: the hour's start, epoch seconds)."""

    metric: str
    device_id: str
    bucket: float
    kind: str
    district: str
    readings: int
    value_sum: float


class DeviceHours:
    """Each watched device's open hour, and the closed hours waiting to be written (see the module's docstring).

    ``observe`` has a judge's signature so the evaluator can route readings to it; it never returns a change."""

    def __init__(self, max_devices: int = MAX_DEVICES, max_closed: int = MAX_CLOSED) -> None:
        self.max_devices = max_devices
        self.max_closed = max_closed
        # (metric, device) → [epoch hour, sum, readings, kind, district]: a list, mutated in place per reading
        self._open: dict[tuple[str, str], list] = {}
        self._closed: dict[tuple[str, str, int], list] = {}  # (metric, device, epoch hour) → [sum, n, kind, district]
        self.refused = 0  # readings of devices past ``max_devices``
        self.dropped = 0  # closed hours not kept: the queue was full

    def observe(self, record: Any, ts: float, now: float) -> None:
        """Count a reading (a ``SensorReading``) into its device's hour."""
        key = (record.metric, record.device_id)
        hour = int(ts // 3600)
        open_hour = self._open.get(key)
        if open_hour is not None and open_hour[0] == hour:  # the usual case: two additions
            open_hour[1] += record.value
            open_hour[2] += 1
            return None
        if open_hour is None:
            if len(self._open) >= self.max_devices:
                self.refused += 1
                return None
            self._open[key] = [hour, record.value, 1, record.kind, record.district]
        elif open_hour[0] < hour:  # the device's next hour: the one before is complete
            self._close(key, open_hour)
            self._open[key] = [hour, record.value, 1, record.kind, record.district]
        else:  # late: an hour already closed, added to what is (or was) written for it
            self._add_closed((*key, hour), record.value, 1, record.kind, record.district)
        return None

    def close_before(self, before: float) -> int:
        """Close the open hours that ended before ``before`` (epoch seconds): their devices went quiet. Returns how
        many were closed; they leave the open hours, so a device heard no more costs nothing after its hour."""
        last_hour = int(before // 3600) - 1  # hours up to this one ended at or before ``before``
        due = [(key, h) for key, h in self._open.items() if h[0] <= last_hour]
        for key, open_hour in due:
            self._close(key, open_hour)
            del self._open[key]
        return len(due)

    def close_all(self) -> None:
        """Close every open hour, partial or not (the evaluator stops leading: the next leader adds the rest)."""
        for key, open_hour in self._open.items():
            self._close(key, open_hour)
        self._open.clear()

    def pending(self) -> list[HourMean]:
        """The closed hours waiting to be written (call ``written`` once they are)."""
        return [HourMean(metric, device, hour * 3600.0, kind, district, n, total)
                for (metric, device, hour), (total, n, kind, district) in self._closed.items()]  # fmt: skip

    def written(self) -> None:
        """What ``pending`` returned is in the table (no reading was counted in between: one thread)."""
        self._closed.clear()

    def __len__(self) -> int:
        """Devices with an open hour."""
        return len(self._open)

    def _close(self, key: tuple[str, str], open_hour: list) -> None:
        hour, total, n, kind, district = open_hour
        self._add_closed((*key, hour), total, n, kind, district)

    def _add_closed(self, key: tuple[str, str, int], total: float, n: int, kind: str, district: str) -> None:
        known = self._closed.get(key)
        if known is not None:
            known[0] += total
            known[1] += n
        elif len(self._closed) >= self.max_closed:
            self.dropped += 1
        else:
            self._closed[key] = [total, n, kind, district]


# --- what a refresh of a per-device rule's baselines loads ----------------------------------------------------------
def hours_wanted(now: float, behind_s: float, ahead_s: float, hour_of: LocalHours) -> frozenset[int]:
    """The local hours of day a per-device rule can judge by until its next refresh: every hour overlapping
    ``now − behind_s`` … ``now + ahead_s``, widened by half an hour each way because a moment is judged against its
    own hour and the neighbour whose middle is nearest (``Baselines.at``). All 24 once that spans a day."""
    start, end = now - behind_s - 1800.0, now + ahead_s + 1800.0
    if end - start >= 86400.0 - 3600.0:
        return frozenset(range(24))
    return frozenset(hour_of(h * 3600.0) for h in range(int(start // 3600), int(end // 3600) + 1))


def buckets_wanted(until: float, days: int, wanted: frozenset[int], hour_of: LocalHours) -> list[float]:
    """The hour buckets (epoch seconds) of the ``days`` days before ``until`` (an hour's start) whose local hour is
    wanted: at most ``days`` × 24, usually ``days`` × 4."""
    first = int(until // 3600) - days * 24
    return [h * 3600.0 for h in range(first, int(until // 3600)) if hour_of(h * 3600.0) in wanted]


def baselines_from_summaries(rows: Iterable[tuple[str, int, float, float, int]], hour_of: LocalHours) -> Baselines:
    """Baselines from (device, local hour, median, MAD, days) rows, as the database summarises the hourly means."""
    return Baselines({(device, hour): Baseline(usual, mad, days) for device, hour, usual, mad, days in rows}, hour_of)
