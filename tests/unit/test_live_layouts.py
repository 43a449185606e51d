"""The live views' pure builders: trends against yesterday, honest alerts, the wall's playlist."""

from __future__ import annotations

import pytest

from callbacks.live import changed
from layouts.live import KPIS, alerts_list, kpi_body, number, trend
from layouts.wall import VIEWS, wall_config


def text(component) -> str:
    """All the text inside a component tree."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list):
        return " ".join(text(c) for c in component if c is not None)
    return text(getattr(component, "children", None) or [])


@pytest.mark.parametrize(("key", "value", "yesterday", "said", "css"), [
    ("complaints_open", 120, 100, "▲ 20% vs yesterday", "trend-bad"),
    ("satisfaction_pct", 91.0, 93.5, "▼ 2.5 pt vs yesterday", "trend-bad"),
    ("pue_now", 1.28, 1.31, "▼ 0.03 vs yesterday", "trend-good"),
    ("readings_per_min", 900, 1000, "▼ 10% vs yesterday", "trend-flat"),
    ("complaints_today", 5, 0, "▲ from 0 vs yesterday", "trend-flat"),
    ("devices_online_pct", 97.0, 97.04, "= same time yesterday", "trend-flat"),
    ("median_close_h", 3.0, None, "nothing recorded yesterday to compare", "trend-flat"),
    ("devices_online_pct", 100.0, None, "nothing recorded yesterday to compare", "trend-flat"),
    ("sla_share_pct", None, 90.0, "no figure yet", "trend-flat"),
])  # fmt: skip
def test_trend_says_direction_size_and_whether_it_is_good(key, value, yesterday, said, css):
    assert trend(KPIS[key], value, yesterday) == (said, css)


def test_a_tile_without_data_shows_a_dash_not_zero():
    assert number(None) == "–"
    assert "–" in text(kpi_body("pue_now", None))
    assert "1.27" in text(kpi_body("pue_now", {"value": 1.2727, "yesterday": None}))


def test_alerts_say_plainly_that_alerting_is_not_running():
    assert "not running" in text(alerts_list({"available": False, "items": []}, "Asia/Shanghai"))
    assert "not running" in text(kpi_body("alerts_open", {"available": False, "by_severity": {"critical": 0}}))
    assert "No open alerts" in text(alerts_list({"available": True, "items": []}, "Asia/Shanghai"))


def test_wall_query_overrides_settings_and_ignores_unknown_views():
    assert wall_config({"playlist": "map,bogus,overview", "interval": "20"}, ["overview"], 30) == {
        "playlist": ["map", "overview"], "interval_ms": 20_000, "titles": {"map": VIEWS["map"],
                                                                          "overview": VIEWS["overview"]}}
    assert wall_config({}, ["energy", "alerts"], 45)["playlist"] == ["energy", "alerts"]
    assert wall_config({"playlist": "bogus"}, ["bogus"], 30)["playlist"] == list(VIEWS)
    assert wall_config({"interval": "1"}, ["map"], 30)["interval_ms"] == 5_000
    assert wall_config({"interval": "soon"}, ["map"], 30)["interval_ms"] == 30_000


def test_a_part_is_resent_only_when_its_digest_differs_from_what_the_browser_drew():
    seen = {"version": 3, "digests": {"sensors": "a", "kpi:pue_now": "b"}}
    assert not changed(seen, {"sensors": "a"}, "sensors")
    assert changed(seen, {"sensors": "c"}, "sensors")
    assert changed({}, {"sensors": "a"}, "sensors")
    assert changed(None, {"kpi:pue_now": "b"}, "kpi:pue_now")
