"""Prometheus metrics of alerting (docs/OPERATIONS.md): the evaluator's records and alerts, the webhook sender's
deliveries, and the outbox depth, read from the database when Prometheus scrapes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cache

import psycopg
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from alerts.evaluate import Condition
from alerts.retry import Outcome

log = logging.getLogger(__name__)
WEBHOOK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0)
OUTBOX_DEPTH = "SELECT receiver, count(*) FROM alert_outbox WHERE status = 'pending' GROUP BY receiver"


class EvaluatorMetrics:
    """What the alert evaluator judged and raised."""

    def __init__(self) -> None:
        self.evaluated = Counter("ioc_alerts_records_evaluated_total", "Records of a city stream the alert evaluator "
                                 "judged against the rules.", ["stream"])  # fmt: skip
        self.fired = Counter("ioc_alerts_fired_total", "Alerts the evaluator found starting to fire, by rule.",
                             ["rule"])  # fmt: skip
        self.resolved = Counter("ioc_alerts_resolved_total", "Alerts the evaluator found cleared, by rule.", ["rule"])
        self.forecasts_revised = Counter("ioc_alerts_forecasts_revised_total", "Open predicted alerts whose "
                                         "expected time the evaluator rewrote from a newer forecast, by rule.",
                                         ["rule"])  # fmt: skip
        self.leader = Gauge("ioc_alerts_evaluator_leader", "1 while this process holds the evaluator's lease and "
                            "evaluates, else 0.")  # fmt: skip
        self.baseline_failures = Counter("ioc_alerts_baseline_load_failures_total", "Loads of the anomaly rules' "
                                         "baselines that failed (database away); the rules kept the ones they "
                                         "had.")  # fmt: skip

    def judged(self, streams: Mapping[str, str], records: Mapping[str, int]) -> None:
        """One batch: records judged per stream kind."""
        for kind, n in records.items():
            if n:
                self.evaluated.labels(streams[kind]).inc(n)

    def raised(self, conditions: Sequence[Condition]) -> None:
        """Conditions the evaluator raised (only changes: an alert starting or stopping)."""
        for condition in conditions:
            (self.fired if condition.firing else self.resolved).labels(condition.rule_id).inc()

    def revised(self, revisions: Sequence[Condition]) -> None:
        """Forecasts of open predicted alerts written again (``AlertStore.revise``)."""
        for revision in revisions:
            self.forecasts_revised.labels(revision.rule_id).inc()


class SenderMetrics:
    """Each webhook attempt's outcome and time, per receiver (names come from IOC_ALERT_RECEIVERS: bounded)."""

    def __init__(self) -> None:
        self.deliveries = Counter("ioc_alerts_webhook_deliveries_total", "Webhook attempts by receiver and outcome: "
                                  "delivered, retry (failed, tried again later) or dead (given up).",
                                  ["receiver", "outcome"])  # fmt: skip
        self.latency = Histogram("ioc_alerts_webhook_duration_seconds", "Time of one webhook attempt (connect, send, "
                                 "reply), by receiver.", ["receiver"], buckets=WEBHOOK_BUCKETS)  # fmt: skip

    def attempted(self, receiver: str, outcome: Outcome, seconds: float) -> None:
        result = "delivered" if outcome.delivered else "dead" if outcome.retry_in_s is None else "retry"
        self.deliveries.labels(receiver, result).inc()
        self.latency.labels(receiver).observe(seconds)


class OutboxDepth(Collector):
    """``ioc_alerts_outbox_pending``: messages waiting per receiver, counted when Prometheus scrapes (one short
    query on a connection of its own, bounded by the connection's statement timeout)."""

    def __init__(self, connect_db: Callable[[], psycopg.Connection], receivers: Sequence[str]) -> None:
        self._connect_db, self.receivers = connect_db, tuple(receivers)

    def collect(self):
        family = GaugeMetricFamily("ioc_alerts_outbox_pending", "Webhook messages waiting in the outbox (due or "
                                   "backing off), by receiver; absent while the database does not answer.",
                                   labels=["receiver"])  # fmt: skip
        try:
            with self._connect_db() as conn:
                conn.execute("SET statement_timeout = 5000")  # a scrape waits seconds at most, never a lock's time
                counts = dict(conn.execute(OUTBOX_DEPTH).fetchall())
        except psycopg.Error as exc:
            log.warning("outbox depth not read for /metrics: %s", str(exc).strip()[:200])
        else:
            for receiver in sorted(set(self.receivers) | set(counts)):
                family.add_metric([receiver], counts.get(receiver, 0))
        yield family

    def describe(self):
        return []


@cache
def evaluator_metrics() -> EvaluatorMetrics:
    """This process's evaluator metrics."""
    return EvaluatorMetrics()


@cache
def sender_metrics() -> SenderMetrics:
    """This process's sender metrics."""
    return SenderMetrics()


def watch_outbox(connect_db: Callable[[], psycopg.Connection], receivers: Sequence[str]) -> OutboxDepth:
    """Report the outbox depth in this process's metrics."""
    collector = OutboxDepth(connect_db, receivers)
    REGISTRY.register(collector)
    return collector
