"""Readiness verdicts from observed facts, and who may read the dashboard's /metrics (pure: no service, no clock)."""

from __future__ import annotations

from auth.addresses import parse_networks
from ops.exposition import metrics_allowed
from ops.readiness import Observed, ReadinessLimits, judge

LIMITS = ReadinessLimits(max_lag=1000, max_snapshot_age_s=60)
NOW_MS = 1_800_000_000_000
LAG = {"city:iot": 12, "city:complaints": 0, "city:datacenter": 0}


def seen(**changes) -> Observed:
    facts = {"redis": None, "database": None, "lag": LAG, "snapshot_built_ms": NOW_MS - 5_000, "now_ms": NOW_MS}
    return Observed(**(facts | changes))


def test_ready_when_every_check_passes():
    verdict = judge(seen(), LIMITS)
    assert verdict.ready and verdict.failed == []
    assert verdict.body()["checks"]["snapshot"] == {"ok": True, "age_s": 5.0, "max_age_s": 60}
    assert verdict.body()["checks"]["ingest_lag"] == {"ok": True, "lag": LAG, "max": 1000}


def test_a_stale_snapshot_fails_with_its_age():
    verdict = judge(seen(snapshot_built_ms=NOW_MS - 61_000), LIMITS)
    assert not verdict.ready and verdict.failed == ["snapshot"]
    check = verdict.checks["snapshot"]
    assert check["age_s"] == 61.0 and "61 s old" in check["error"]


def test_a_snapshot_exactly_at_the_limit_is_still_fresh():
    assert judge(seen(snapshot_built_ms=NOW_MS - 60_000), LIMITS).ready


def test_a_snapshot_never_built_is_not_ready():
    verdict = judge(seen(snapshot_built_ms=None), LIMITS)
    assert verdict.failed == ["snapshot"] and "not been built" in verdict.checks["snapshot"]["error"]


def test_lag_over_the_threshold_names_the_worst_stream():
    verdict = judge(seen(lag={"city:iot": 5000, "city:complaints": 1001, "city:datacenter": 3}), LIMITS)
    assert verdict.failed == ["ingest_lag"]
    assert verdict.checks["ingest_lag"]["error"].startswith("city:iot: 5000 entries")


def test_lag_redis_cannot_tell_is_shown_but_not_failed():
    verdict = judge(seen(lag={"city:iot": None}), LIMITS)
    assert verdict.ready and verdict.checks["ingest_lag"]["lag"] == {"city:iot": None}


def test_redis_down_fails_what_depends_on_it_too():
    verdict = judge(seen(redis="Redis did not answer within 2 s", lag={}, snapshot_built_ms=None), LIMITS)
    assert verdict.failed == ["redis", "ingest_lag", "snapshot"]
    assert verdict.checks["redis"]["error"] == "Redis did not answer within 2 s"


def test_database_down():
    verdict = judge(seen(database="the database did not answer within 2 s"), LIMITS)
    assert verdict.failed == ["database"] and verdict.body()["ready"] is False


PROMETHEUS = parse_networks(["10.20.0.0/16"])
PROXY = parse_networks(["10.20.0.5"])


def test_metrics_open_to_the_token_from_anywhere():
    assert metrics_allowed("203.0.113.9", "Bearer s3cret-token", "s3cret-token", (), ())
    assert metrics_allowed("203.0.113.9", "bearer s3cret-token", "s3cret-token", (), ())
    assert not metrics_allowed("203.0.113.9", "Bearer wrong", "s3cret-token", (), ())
    assert not metrics_allowed("203.0.113.9", "Basic czNjcmV0LXRva2Vu", "s3cret-token", (), ())


def test_metrics_closed_to_everyone_when_nothing_is_configured():
    assert not metrics_allowed("127.0.0.1", None, "", (), ())
    assert not metrics_allowed("127.0.0.1", "Bearer ", "", (), ())  # an empty token never matches


def test_metrics_open_to_listed_addresses_but_never_through_a_trusted_proxy():
    assert metrics_allowed("10.20.3.4", None, "", PROMETHEUS, ())
    assert not metrics_allowed("10.21.3.4", None, "", PROMETHEUS, ())
    assert not metrics_allowed("10.20.0.5", None, "", PROMETHEUS, PROXY)  # it relays every outside visitor
    assert not metrics_allowed("not an address", None, "", PROMETHEUS, ())
