"""The new-identity cap and forgetting, against real Redis and TimescaleDB (in-process workers, injected clock)."""

from __future__ import annotations

import time

import bootstrap
from streams.admission import counter_key
from tests.integration import events
from tests.integration.conftest import count

T = int(time.time() * 1000) - 3_600_000
MINUTE0 = 1_800_000_000.0  # an epoch second on a minute boundary: the cap's window is the worker's wall clock


class Wall:
    """A settable wall clock for the cap's minute window."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def drain(worker) -> None:
    while worker.step():
        pass


def worker_at(settings, name: str, wall: Wall):
    w = bootstrap.ingest_worker(settings, name)
    w.wall = wall
    w.new_ids.clock = wall
    w.ensure_groups()
    return w


def dead_codes(rds, stream: str) -> list[bytes]:
    return [f[b"dlq_code"] for _, f in rds.xrange(stream)]


def test_new_devices_past_the_cap_are_dead_lettered_and_known_ones_always_land(rds, db, test_settings):
    s = test_settings.model_copy(update={"ingest_new_devices_per_min": 50})
    wall = Wall(MINUTE0)
    events.fill(rds, s.stream_iot, [events.reading(f"aq-{i}", ts=T) for i in range(30)])
    worker = worker_at(s, "w1", wall)
    drain(worker)
    assert count(db, "SELECT count(*) FROM sensor_latest") == 30  # 30 new: under the cap

    wall.at += 60  # a fresh minute: 50 new ids allowed
    flood = []
    for i in range(600):
        flood.append(events.reading(f"fake-{i}", ts=T + i))
        if i % 2 == 0:
            flood.append(events.reading(f"aq-{i % 30}", value=i, ts=T + 1000 + i))
    events.fill(rds, s.stream_iot, flood)
    drain(worker)

    assert count(db, "SELECT count(*) FROM sensor_readings WHERE starts_with(device_id, 'aq-')") == 30 + 300
    assert count(db, "SELECT count(DISTINCT device_id) FROM sensor_latest WHERE starts_with(device_id, 'fake-')") == 50
    codes = dead_codes(rds, s.stream_deadletter)
    assert codes == [b"too_many_new"] * 550
    letter = rds.xrange(s.stream_deadletter, count=1)[0][1]
    assert letter[b"device_id"] == b"fake-50" and b"50 new device ids" in letter[b"dlq_reason"]
    stats = rds.hgetall(f"{s.consumer_group}:stats")
    assert stats[f"{s.stream_iot}:rejected:too_many_new".encode()] == b"550"
    assert rds.xpending(s.stream_iot, s.consumer_group)["pending"] == 0

    # A device admitted this minute is known from now on; the next minute admits 50 more.
    wall.at += 60
    events.fill(rds, s.stream_iot, [events.reading(f"fake-{i}", ts=T + 5000) for i in range(0, 200)])
    drain(worker)
    assert count(db, "SELECT count(DISTINCT device_id) FROM sensor_latest WHERE starts_with(device_id, 'fake-')") == 100
    assert len(dead_codes(rds, s.stream_deadletter)) == 550 + 100
    worker.close()


def test_workers_share_one_cap_per_stream_and_minute(rds, db, test_settings):
    s = test_settings.model_copy(update={"ingest_new_devices_per_min": 40, "ingest_batch": 25})
    wall = Wall(MINUTE0)
    events.fill(rds, s.stream_iot, [events.reading(f"new-{i}", ts=T) for i in range(300)])
    one, two = worker_at(s, "w1", wall), worker_at(s, "w2", wall)
    while one.step() + two.step():
        pass
    assert count(db, "SELECT count(DISTINCT device_id) FROM sensor_latest") == 40
    assert len(dead_codes(rds, s.stream_deadletter)) == 260
    assert int(rds.get(counter_key(s.consumer_group, s.stream_iot, int(MINUTE0 // 60)))) == 40
    assert rds.ttl(counter_key(s.consumer_group, s.stream_iot, int(MINUTE0 // 60))) <= 120  # the counter expires
    one.close()
    two.close()


def test_new_sites_and_request_ids_have_their_own_caps(rds, db, test_settings):
    s = test_settings.model_copy(update={"ingest_new_sites_per_min": 2, "ingest_new_requests_per_min": 3})
    wall = Wall(MINUTE0)
    events.fill(rds, s.stream_datacenter, [events.sample(f"dc-{i}", 1200, 1000, T + i) for i in range(5)])
    events.fill(rds, s.stream_complaints, [events.complaint(f"SZ-{i}", "open", T + i) for i in range(5)]
                + [events.complaint("SZ-0", "closed", T + 60_000, 4)])  # fmt: skip
    worker = worker_at(s, "w1", wall)
    drain(worker)
    assert count(db, "SELECT count(*) FROM datacenter_latest") == 2
    assert count(db, "SELECT count(*) FROM complaints") == 3
    assert count(db, "SELECT status FROM complaints WHERE request_id = 'SZ-0'") == "closed"  # known: it lands
    assert dead_codes(rds, s.stream_deadletter) == [b"too_many_new"] * 5
    worker.close()


def test_silent_devices_and_sites_leave_current_state_and_their_history_stays(rds, db, test_settings):
    s = test_settings.model_copy(update={"device_forget_after_hours": 24.0})
    now_ms = int(time.time() * 1000)
    old = now_ms - 3 * 86_400_000
    events.fill(rds, s.stream_iot, [events.reading("aq-1", ts=old), events.reading("aq-2", ts=now_ms - 60_000)])
    events.fill(rds, s.stream_datacenter, [events.sample("dc-old", 1200, 1000, old),
                                           events.sample("dc-new", 1200, 1000, now_ms - 60_000)])  # fmt: skip
    worker = bootstrap.ingest_worker(s, "w1")
    worker.ensure_groups()
    drain(worker)
    assert count(db, "SELECT count(*) FROM sensor_latest") == 2

    assert worker.forget_silent() == (1, 1)
    assert count(db, "SELECT string_agg(device_id, ',') FROM sensor_latest") == "aq-2"
    assert count(db, "SELECT string_agg(site, ',') FROM datacenter_latest") == "dc-new"
    assert count(db, "SELECT count(*) FROM sensor_readings") == 2  # history stays
    assert int(rds.hget(f"{s.consumer_group}:stats", "forgotten_devices")) == 1
    worker.close()


def test_a_rule_opens_at_most_its_cap_of_alerts_then_one_summary_alert_counts_the_rest(db, test_settings):
    from datetime import UTC, datetime

    from alerts.evaluate import Condition
    from alerts.store import HELD_BACK, AlertStore

    def silent(device: str, firing: bool = True) -> Condition:
        return Condition("water_gauge_silent", device, firing, 900.0, None, "warning", f"{device} silent", {},
                         datetime.now(UTC))  # fmt: skip

    conn = bootstrap.db_connection(test_settings)
    store = AlertStore(conn, ["ops"], "https://ioc.example.org", max_open_per_rule=5)
    assert store.apply([silent(f"wg-{i}") for i in range(5)]) == 5  # five alerts, five webhooks
    assert store.apply([silent(f"wg-{i}") for i in range(5, 500)]) == 1  # one summary alert, one webhook
    assert store.apply([silent("wg-0")]) == 0  # an open one is still the same alert
    assert store.apply([silent("other", True)._replace(rule_id="other_rule")]) == 1  # other rules are not held
    open_rows = db.execute("SELECT subject, value, labels->>'capped' FROM alerts WHERE rule_id = 'water_gauge_silent'"
                           " AND status <> 'resolved' ORDER BY id").fetchall()  # fmt: skip
    assert [r[0] for r in open_rows] == [f"wg-{i}" for i in range(5)] + [HELD_BACK]
    assert open_rows[-1][1:] == (495.0, "true")
    assert count(db, "SELECT count(*) FROM alert_outbox") == 7
    # A resolved alert frees a place: the next subject opens its own alert again.
    assert store.apply([silent("wg-1", firing=False)]) == 1
    assert store.apply([silent("wg-new")]) == 1
    assert count(db, "SELECT count(*) FROM alerts WHERE subject = 'wg-new'") == 1
    conn.close()


def test_the_console_reads_open_alerts_one_page_at_a_time_and_never_past_the_last(db, test_settings):
    from datetime import UTC, datetime

    from alerts.evaluate import Condition
    from alerts.service import AlertConsole
    from alerts.store import AlertStore

    conn = bootstrap.db_connection(test_settings)
    now = datetime.now(UTC)
    AlertStore(conn, [], "https://ioc.example.org").apply(
        [Condition("r", f"d-{i}", True, 1.0, None, "critical" if i % 10 == 0 else "info", "s", {}, now)
         for i in range(250)])  # fmt: skip
    console = AlertConsole(lambda: bootstrap.db_connection(test_settings))
    pages = [console.open_alerts(p, 100) for p in range(3)]
    assert [len(p.rows) for p in pages] == [100, 100, 50]
    assert len({r["id"] for p in pages for r in p.rows}) == 250  # no alert twice, none skipped
    assert pages[0].counts == {"critical": 25, "info": 225} and pages[0].total == 250
    assert {r["severity"] for r in pages[0].rows[:25]} == {"critical"}
    past = console.open_alerts(99, 100)
    assert past.page == 2 and len(past.rows) == 50
    conn.close()


def test_the_live_snapshot_carries_at_most_its_bound_of_devices_and_counts_the_rest(db, test_settings):
    from datetime import UTC, datetime

    import orjson

    from live.queries import Windows, read_city
    from live.snapshot import assemble

    db.execute("INSERT INTO sensor_latest (device_id, metric, kind, unit, value, ts, lat, lon, district)"
               " SELECT 'd-' || lpad(i::text, 4, '0'), m, 'air_quality', 'ug/m3', 10, now(), 22.54, 114.06, 'futian'"
               " FROM generate_series(1, 300) i, unnest(ARRAY['pm10', 'pm25']) m")  # fmt: skip
    db.commit()
    conn = bootstrap.db_connection(test_settings)
    facts = read_city(conn, Windows.at(datetime.now(UTC), "Asia/Shanghai"), max_sensors=100)
    assert len(facts.sensors) == 200 and facts.sensors_total == 300  # whole devices: both metrics of each
    doc = assemble(facts, bootstrap.status_bands(test_settings))
    assert [s["id"] for s in doc["sensors"]][-1] == "d-0100" and len(doc["sensors"]) == 100
    assert doc["sensor_counts"]["not_shown"] == 200
    small = len(orjson.dumps(doc))
    unbounded = assemble(read_city(conn, Windows.at(datetime.now(UTC), "Asia/Shanghai"), max_sensors=1000),
                         bootstrap.status_bands(test_settings))
    assert "not_shown" not in unbounded["sensor_counts"] and len(unbounded["sensors"]) == 300
    assert small < len(orjson.dumps(unbounded)) / 2
    conn.close()


def test_the_snapshot_bound_counts_devices_whatever_their_number_of_metrics(db, test_settings):
    from datetime import UTC, datetime

    from live.queries import Windows, read_city

    db.execute("INSERT INTO sensor_latest (device_id, metric, kind, unit, value, ts, lat, lon, district)"
               " SELECT 'd-' || lpad(i::text, 4, '0'), 'pm25', 'air_quality', 'ug/m3', 10, now(), 22.54, 114.06,"
               " 'futian' FROM generate_series(1, 150) i")  # fmt: skip
    db.commit()
    conn = bootstrap.db_connection(test_settings)
    facts = read_city(conn, Windows.at(datetime.now(UTC), "Asia/Shanghai"), max_sensors=100)
    conn.close()
    assert len(facts.sensors) == 100 and facts.sensors_total == 150
