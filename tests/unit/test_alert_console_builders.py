"""The alert console's pure parts: grid rows, details, history, deliveries, silences, matchers, the actor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dash import dcc

from alerts.commands import ActionLimits, check_matchers
from auth.command import Refused
from layouts import alerts as view
from layouts.city_map import alert_features

TZ = "Asia/Shanghai"
FIRED = datetime(2026, 11, 24, 8, 30, 5, tzinfo=UTC)  # 16:30:05 in Shenzhen


def alert(**fields) -> dict:
    return {
        "id": 42,
        "rule_id": "pm25_district_high",
        "subject": "futian",
        "severity": "critical",
        "status": "firing",
        "summary": "PM2.5 in futian averages 171",
        "labels": {"team": "environment"},
        "value": 171.2,
        "threshold": 150.0,
        "silenced": False,
        "assignee": None,
        "fired_at": FIRED,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_at": None,
        "resolved_by": None,
    } | fields


def text(component) -> str:
    """Every string in a component tree, joined."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text(c) for c in component)
    children = getattr(component, "children", None)
    return "" if children is None else text(children)


def test_grid_rows_carry_what_an_officer_scans_in_city_time():
    (row,) = view.alert_rows([alert(silenced=True, assignee="li.wei")], TZ)
    assert row == {"id": 42, "severity": "critical", "severity_code": "critical", "rule": "pm25_district_high",
                   "subject": "futian", "summary": "PM2.5 in futian averages 171", "value": "171.2",
                   "fired": "Nov 24, 2026, 16:30:05",
                   "status": "firing (silenced)", "assignee": "li.wei", "incident": ""}  # fmt: skip


def test_severity_counts_show_every_severity_even_at_zero():
    shown = text(view.severity_counts({"critical": 1, "info": 12_000}))
    assert shown == "critical  1 warning  0 info  12,000"


def test_the_page_text_says_which_alerts_of_how_many_the_grid_shows():
    assert view.page_text(0, 100, 100, 2345) == ("Showing 1–100 of 2,345 open alerts, most severe then newest first.")
    assert view.page_text(23, 100, 45, 2345).startswith("Showing 2,301–2,345 of 2,345")
    assert view.page_text(0, 100, 0, 0) == "No open alerts."


def test_detail_shows_who_acted_when_and_every_delivery_dead_ones_marked():
    acked = alert(status="acknowledged", acknowledged_by="Chen Jing", acknowledged_at=FIRED)
    events = [
        {"at": FIRED, "actor": "evaluator", "action": "fired", "note": None, "details": {}},
        {"at": FIRED, "actor": "Chen Jing", "action": "assigned", "note": None, "details": {"assignee": None}},
    ]
    deliveries = [{"receiver": "ops", "event_type": "alert.firing", "status": "dead", "attempts": 9,
                   "delivered_at": None, "last_status": 500, "last_error": "gave up after 24 h"}]  # fmt: skip
    panel = view.detail_panel(acked, events, deliveries, TZ)
    shown = text(panel)
    assert "Chen Jing at Nov 24, 2026, 16:30:05" in shown and "assigned to nobody" in shown
    assert "gave up after 24 h" in shown
    history = view.history_table(events, TZ)
    assert [text(tr) for tr in history.children[1].children][0] == "Nov 24, 2026, 16:30:05 evaluator fired "
    assert view.deliveries_table(deliveries, TZ).children[1].children[0].className == "delivery-dead"


HOSTILE = "<img src=x onerror=alert(1)> gauge"


def test_an_alert_of_an_incident_names_it_in_the_grid_and_links_to_its_timeline_from_the_detail():
    member = alert(incident_id=7, incident_title=HOSTILE, incident_state="monitoring")
    (row,) = view.alert_rows([member], TZ)
    assert row["incident"] == f"#7 {HOSTILE}"  # a string: the grid writes it as text
    facts = view.detail_panel(member, [], [], TZ)[1].children
    at = [text(f) for f in facts].index("incident")
    link, state = facts[at + 1].children
    assert isinstance(link, dcc.Link) and link.href == "/incidents?incident=7"
    assert link.children == f"#7 {HOSTILE}" and state == " (monitoring)"


def test_an_alert_of_no_incident_says_so_with_a_dash():
    assert view.alert_rows([alert(incident_id=None, incident_title=None)], TZ)[0]["incident"] == ""
    facts = view.detail_panel(alert(), [], [], TZ)[1].children
    at = [text(f) for f in facts].index("incident")
    assert facts[at + 1].children == "–"


def test_nothing_selected_and_nothing_dead_say_so():
    assert "Select an alert" in text(view.detail_panel(None, [], [], TZ))
    assert text(view.dead_letters_table([], TZ)) == "No dead-lettered webhook deliveries."
    assert text(view.silences_table([], TZ)) == "No silences."


def test_silences_list_matchers_window_and_an_expire_button_per_silence():
    table = view.silences_table(
        [
            {
                "id": 7,
                "matchers": {"team": "water", "subject": "wl-1"},
                "starts_at": FIRED,
                "ends_at": FIRED,
                "created_by": "Chen Jing",
                "comment": "maintenance",
            }
        ],
        TZ,
        True,
    )
    cells = table.children[1].children[0].children
    assert text(cells[0]) == "subject=wl-1, team=water"
    assert cells[-1].children.id == {"type": "alerts-silence-expire", "silence": 7}


def test_who_may_not_silence_sees_no_expire_button():
    table = view.silences_table(
        [
            {
                "id": 7,
                "matchers": {"team": "water"},
                "starts_at": FIRED,
                "ends_at": FIRED,
                "created_by": "chen",
                "comment": "maintenance",
            }
        ],
        TZ,
        can_expire=False,
    )
    assert table.children[1].children[0].children[-1].children == ""


@pytest.mark.parametrize(("typed", "matchers"), [
    ("team=water", {"team": "water"}), (" team = water , subject=wl-0042 ,", {"team": "water", "subject": "wl-0042"}),
])  # fmt: skip
def test_matchers_parse_from_name_value_pairs(typed, matchers):
    assert check_matchers(typed, ActionLimits()) == matchers


@pytest.mark.parametrize("typed", ["", "  , ", "team", "team=", "=water"])
def test_bad_matchers_are_refused_with_an_example(typed):
    with pytest.raises(Refused, match="matcher|name=value"):
        check_matchers(typed, ActionLimits())


def test_only_placed_alerts_become_map_markers():
    items = [
        {"id": 1, "severity": "critical", "rule": "r", "subject": "aq-1", "summary": "s", "lat": 22.5, "lon": 114.0},
        {"id": 2, "severity": "info", "rule": "r", "subject": "city", "lat": None, "lon": None},
    ]
    (feature,) = alert_features(items)["features"]
    assert feature["geometry"]["coordinates"] == [114.0, 22.5] and feature["properties"]["severity"] == "critical"


def test_the_rules_in_force_are_listed_in_plain_words(settings):
    import bootstrap
    from layouts.alerts import describe_rule, rules_table

    rules = bootstrap.alert_rules(settings)
    table = rules_table(rules)
    listed = [row.children[0].children for row in table.children[1].children]
    assert listed == [r.id for r in rules] and len(rules) >= 4
    lines = {"band" if r.band else r.type: describe_rule(r) for r in rules}
    assert "over" in lines["threshold"] and "nothing for" in lines["no_data"]
    assert lines["band"] == "latest water level >= 2.8 (critical in band water_level/level_m) for 2 min"
    assert lines["rate"].startswith("water level rises more than 0.3") and "None" not in " ".join(lines.values())
