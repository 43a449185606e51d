"""An ingest worker's Prometheus metrics (docs/OPERATIONS.md), counted once per batch and stream, never per entry:
at 100,000 entries a second a per-entry increment would cost more than some parsers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from prometheus_client import Counter, Gauge, Histogram

BATCH_BUCKETS = (1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000)
COMMIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class IngestMetrics:
    """The counters, histograms and gauges of one ingest process."""

    def __init__(self) -> None:
        self.read = Counter("ioc_ingest_entries_read_total", "Stream entries an ingest worker handled (new, "
                            "re-read after a restart, or claimed from a dead worker).", ["stream"])  # fmt: skip
        self.stored = Counter("ioc_ingest_entries_stored_total", "Stream entries committed to TimescaleDB and "
                              "acknowledged (duplicates of rows already stored included).", ["stream"])  # fmt: skip
        self.rejected = Counter("ioc_ingest_entries_rejected_total", "Stream entries sent to the dead-letter stream, "
                                "by the reason's code (docs/EVENTS.md).", ["stream", "code"])  # fmt: skip
        self.duplicates = Counter("ioc_ingest_duplicates_total", "Entries whose rows were already stored "
                                  "(redeliveries), so no second row was written.")  # fmt: skip
        self.batch = Histogram("ioc_ingest_batch_entries", "Entries in one read of an ingest worker, all streams "
                               "together.", buckets=BATCH_BUCKETS)  # fmt: skip
        self.commit = Histogram("ioc_ingest_commit_duration_seconds", "Time to write and commit one batch to "
                                "TimescaleDB (successful attempts).", buckets=COMMIT_BUCKETS)  # fmt: skip
        self.lag = Gauge("ioc_stream_group_lag", "Entries of a city stream not yet delivered to a consumer group, as "
                         "an ingest worker last read it (housekeeping, every IOC_HOUSEKEEPING_INTERVAL_S).",
                         ["stream", "group"])  # fmt: skip
        self.pending = Gauge("ioc_stream_group_pending", "Entries delivered to a consumer group and not yet "
                             "acknowledged, as an ingest worker last read it.", ["stream", "group"])  # fmt: skip

    def handled(self, streams: Mapping[str, str], read: Mapping[str, int], stored: Mapping[str, int],
                rejected: Mapping[tuple[str, str], int], duplicates: int) -> None:  # fmt: skip
        """One acknowledged batch: entries read and stored per kind, rejected per (stream, code)."""
        for kind, n in read.items():
            if n:
                self.read.labels(streams[kind]).inc(n)
        for kind, n in stored.items():
            if n:
                self.stored.labels(streams[kind]).inc(n)
        for (stream, code), n in rejected.items():
            self.rejected.labels(stream, code).inc(n)
        if duplicates:
            self.duplicates.inc(duplicates)
        self.batch.observe(sum(read.values()))

    def groups(self, stream: str, infos: Iterable[Mapping]) -> None:
        """XINFO GROUPS of ``stream``: each group's lag (when Redis can tell) and pending entries."""
        for info in infos:
            group = _text(info["name"])
            self.pending.labels(stream, group).set(info.get("pending") or 0)
            if info.get("lag") is not None:
                self.lag.labels(stream, group).set(info["lag"])


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


@cache
def ingest_metrics() -> IngestMetrics:
    """This process's ingest metrics (every worker object in the process adds to the same ones)."""
    return IngestMetrics()
