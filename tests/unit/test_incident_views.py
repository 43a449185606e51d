"""The incidents' pure builders: the timeline's order, its lines, the list, the map's points, the wall's panel,
the webhook body and its line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from alerts.webhooks import incident_body
from i18n.webhook_text import incident_text
from incidents.timeline import timeline
from layouts import alerts as alert_view
from layouts import incidents as view
from layouts.incident_overlays import WALL_MAX, incident_features, wall_panel
from tests.unit.test_alert_console_builders import text

TZ = "Asia/Shanghai"
T0 = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


def entry(n: int, kind: str, minutes: float, **fields) -> dict:
    return {"id": n, "at": T0 + timedelta(minutes=minutes), "kind": kind, "actor": "evaluator", "alert_id": None,
            "request_id": None, "note": None, "details": {}} | fields


def incident(**fields) -> dict:
    return {"id": 7, "state": "open", "title": "Water level at wl-1 reads 3.4 m", "owner": None, "district": "futian",
            "lat": 22.54, "lon": 114.05, "opened_at": T0, "closed_at": None, "members": 3, "open_alerts": 1,
            "last_activity": T0} | fields


def test_the_timeline_merges_peak_readings_by_time_entries_first_at_the_same_instant():
    entries = [entry(1, "opened", 0), entry(2, "alert_fired", 0, alert_id=5), entry(3, "complaint_opened", 4)]
    peaks = [{"ts": T0 + timedelta(minutes=2), "device_id": "wl-1", "metric": "level_m", "value": 3.9, "unit": "m",
              "alert_id": 5}, {"ts": T0, "device_id": "wl-2", "metric": "level_m", "value": 3.0, "alert_id": 6}]
    assert [i.kind for i in timeline(entries, peaks)] == ["opened", "alert_fired", "peak_reading", "peak_reading",
                                                         "complaint_opened"]


def test_timeline_lines_say_what_happened_and_keep_complaint_text_for_those_who_may_read_it():
    [fired, complaint, moved, peak] = timeline(
        [entry(1, "alert_fired", 0, alert_id=5, details={"subject": "wl-1", "value": 3.4, "summary": "high"}),
         entry(2, "complaint_opened", 1, request_id="r-1",
               details={"category": "waterlogging", "description": "<b>flood</b>"}),
         entry(3, "state", 2, details={"from": "open", "to": "monitoring"}, note="water receding")],
        [{"ts": T0 + timedelta(minutes=3), "device_id": "wl-1", "metric": "level_m", "value": 3.9, "unit": "m"}])
    assert view.entry_text(fired, True) == "alert #5: wl-1 reads 3.4 (high)"
    assert view.entry_text(complaint, True) == "request r-1 (waterlogging): <b>flood</b>"
    assert view.entry_text(complaint, False) == "request r-1 (waterlogging)"
    assert view.entry_text(moved, True) == "open → monitoring · water receding"
    assert view.entry_text(peak, True) == "wl-1: water level peaked at 3.9 m"
    listed = text(view.timeline_list([fired, complaint], TZ, True))
    assert "alert fired" in listed and "complaint filed" in listed and "<b>flood</b>" in listed


def test_the_list_links_each_incident_to_its_timeline():
    table = view.incidents_table([incident(), incident(id=8, state="closed", owner="chen.jing")], TZ)
    shown = text(table)
    assert "#7" in shown and "chen.jing" in shown and "Water level at wl-1" in shown
    assert view.incidents_table([], TZ).children == "No incidents."


def test_incidents_on_the_map_at_their_centre_or_their_districts():
    features = incident_features([incident(), incident(id=8, lat=None, lon=None, district="nanshan"),
                                  incident(id=9, lat=None, lon=None, district="nowhere")],
                                 {"nanshan": (22.53, 113.93)})["features"]  # fmt: skip
    assert [f["geometry"]["coordinates"] for f in features] == [[114.05, 22.54], [113.93, 22.53]]
    assert features[0]["properties"]["label"] == "Incident #7 · open · futian"


def test_the_wall_lists_a_few_open_incidents_and_counts_the_rest():
    shown = text(wall_panel([incident(id=n) for n in range(WALL_MAX + 3)]))
    assert "and 3 more" in shown and "3 members" in shown and "no owner" in shown
    assert "No open incidents." in text(wall_panel([]))


def test_a_dead_lettered_incident_message_says_it_is_about_an_incident():
    dead = [{"alert_id": None, "incident_id": 7, "receiver": "ops", "event_type": "incident.opened", "attempts": 3,
             "created_at": T0, "last_status": 500, "last_error": "boom"}]
    assert "incident #7" in text(alert_view.dead_letters_table(dead, TZ))


def test_the_webhook_body_and_its_line():
    change = {"action": "opened", "actor": "evaluator", "at": T0, "note": None}
    body = json.loads(incident_body("incident.opened", incident(), change, "http://ioc/incidents/7", T0, "line", "en"))
    assert body["type"] == "incident.opened" and body["data"]["incident"]["opened_at"] == T0.isoformat()
    assert body["data"]["link"] == "http://ioc/incidents/7" and body["data"]["text"] == "line"
    line = incident_text("incident.closed", incident(), change | {"action": "closed"}, "zh-CN", TZ, None)
    assert line == "futian 的事件 #7 已由 evaluator 于 2026年11月24日 16:30:00 关闭：Water level at wl-1 reads 3.4 m"
