"""A status band through the real evaluator: a device held at a band's critical level opens the band's alert.

The shipped rules file is used as it is (its bands colour the maps), so this is the truth an operator deploys. The
evaluator runs in a thread on a clock the test moves: its hold of five minutes passes when the test says so, and
no assertion depends on how long anything took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import bootstrap
from settings import Settings
from tests.integration.alerting import MovedClock, evaluator_on_clock
from tests.integration.conftest import count, wait_until
from tests.integration.events import reading

pytestmark = pytest.mark.integration


@pytest.fixture
def evaluator(test_settings: Settings) -> Iterator[tuple[Settings, MovedClock]]:
    settings = test_settings.model_copy(update={
        "alert_rules_file": Settings().alert_rules_file, "alert_consumer_group": f"{test_settings.consumer_group}-al",
        "alert_tick_s": 0.05, "alert_max_open_per_rule": 2,
    })  # fmt: skip
    with evaluator_on_clock(settings) as clock:
        yield settings, clock


def band_alerts(db) -> list[tuple]:
    return db.execute("SELECT rule_id, subject, severity, status, threshold FROM alerts WHERE rule_id LIKE 'band_%'"
                      " ORDER BY subject").fetchall()  # fmt: skip


def test_a_device_held_in_a_critical_band_opens_the_bands_alert_after_its_hold(evaluator, rds, db):
    settings, clock = evaluator
    hold_s = next(b for b in bootstrap.status_bands(settings).bands.values() if b.name == "air_quality/pm25").hold_s
    group = settings.alert_consumer_group.encode()
    rds.xadd(settings.stream_iot, reading("aq-1", 130))  # critical in the shipped band (≥ 115)
    rds.xadd(settings.stream_iot, reading("aq-2", 90))  # warning: this band alerts at critical only
    rds.xadd(settings.stream_iot, reading("aq-3", 20))

    def acknowledged() -> bool:
        mine = next((g for g in rds.xinfo_groups(settings.stream_iot) if g["name"] == group), None)
        return mine is not None and mine["lag"] == 0 and mine["pending"] == 0

    wait_until(acknowledged, what="the readings judged and acknowledged")
    seen = clock.reads
    wait_until(lambda: clock.reads > seen + 2, what="clock ticks after the readings")
    assert band_alerts(db) == []  # critical, but not yet for the band's hold
    breached_at = time.time()
    clock.offset = hold_s + 1
    wait_until(lambda: band_alerts(db), what="the band's alert")
    assert band_alerts(db) == [("band_air_quality_pm25", "aq-1", "critical", "firing", 115.0)]
    fired_at = db.execute("SELECT fired_at FROM alerts WHERE rule_id = 'band_air_quality_pm25'").fetchone()[0]
    assert fired_at.timestamp() - breached_at >= hold_s  # on the evaluator's clock: after the hold, not before


def test_past_the_cap_a_band_opens_one_summary_alert_for_the_rest(evaluator, rds, db):
    settings, clock = evaluator
    for n in range(1, 6):  # five jammed roads against a cap of two open alerts per rule
        rds.xadd(settings.stream_iot, reading(f"tr-{n}", 6, kind="traffic", metric="speed_kmh", unit="km/h"))
    wait_until(lambda: clock.reads > 5, what="the evaluator running")
    clock.offset = 3600
    wait_until(lambda: count(db, "SELECT count(*) FROM alerts WHERE rule_id = 'band_traffic_speed_kmh'") == 3,
               what="two alerts and the summary")  # fmt: skip
    subjects = [row[1] for row in band_alerts(db)]
    assert "(more subjects)" in subjects and len([s for s in subjects if s.startswith("tr-")]) == 2
    wait_until(lambda: count(db, "SELECT value FROM alerts WHERE subject = '(more subjects)'") == 3,
               what="the summary counting the three held back")  # fmt: skip
