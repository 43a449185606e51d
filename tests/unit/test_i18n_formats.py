"""Numbers, units, dates and times per language (Babel), the language a request gets, district names, and an
alert's summary and webhook line written again in a language."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from i18n import choice, formats
from i18n.alert_text import summary_in
from i18n.catalog import translations
from i18n.districts import district_label, names_from_features
from i18n.languages import parse_language
from i18n.web import back_to, html_with_language
from i18n.webhook_text import texter, webhook_text

MOMENT = datetime(2026, 11, 24, 8, 30, 5, tzinfo=UTC)  # 16:30:05 in Shanghai, 15:30:05 in Bangkok


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("ZH", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("th", "th"),
        ("TH-th", "th"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
        ("x" * 40, None),
        (None, None),
        (3, None),
    ],
)
def test_language_codes_in_their_usual_spellings(raw, code):
    assert parse_language(raw) == code


def test_the_url_wins_then_the_cookie_then_the_persons_choice_then_the_default():
    assert choice.choose("th", "zh-CN", "en", "en") == "th"
    assert choice.choose(None, "zh-CN", "th", "en") == "zh-CN"
    assert choice.choose(None, None, "th", "en") == "th"
    assert choice.choose(None, "klingon", "nonsense", "zh-CN") == "zh-CN"  # stored junk is passed over
    assert choice.url_override("") is None and choice.url_override("zh_CN") == "zh-CN"
    with pytest.raises(choice.UnknownLanguage, match="en, zh-CN, th"):
        choice.url_override("fr")


def test_numbers_percentages_and_units_the_languages_way():
    assert formats.number(12345.678, "en", 1) == "12,345.7" == formats.number(12345.678, "th", 1)
    assert formats.number(None, "zh-CN") == "–"
    assert formats.percent(87.26, "zh-CN", 1) == "87.3%"
    assert formats.unit(12.5, "kW", "zh-CN", 1) == "12.5千瓦"
    assert formats.unit(12.5, "kW", "th", 1) == "12.5 กิโลวัตต์"
    assert formats.unit(1.5, "h", "en", 1) == "1.5 hr"
    assert formats.unit(37.5, "µg/m³", "th", 1) == "37.5 µg/m³"  # not a CLDR unit: as written
    assert formats.significant(12345.6, 4, "en") == "12350" and formats.significant(0.012345, 4, "en") == "0.01234"
    assert formats.count_of(45, "minute", "zh-CN") == "45分钟" and formats.count_of(3, "hour", "th") == "3 ชั่วโมง"


def test_dates_and_times_in_the_display_zone_and_the_language():
    assert formats.clock(MOMENT, "en", "Asia/Shanghai") == "16:30:05"
    assert formats.clock(MOMENT, "th", "Asia/Bangkok") == "15:30:05"
    assert formats.date_time(MOMENT, "en", "Asia/Shanghai") == "Nov 24, 2026, 16:30:05"
    assert formats.date_time(MOMENT, "zh-CN", "Asia/Shanghai") == "2026年11月24日 16:30:05"
    assert formats.date_time(MOMENT, "th", "Asia/Bangkok") == "24 พ.ย. 2026 15:30:05"
    assert formats.format_in(MOMENT, "yyyy-MM-dd HH:mm", "th", "Asia/Shanghai") == "2026-11-24 16:30"
    assert formats.duration(timedelta(minutes=3), "th") == "3 นาที"


def test_a_district_in_each_language_with_english_then_the_id_as_fallback():
    names = names_from_features([{"properties": {"id": "futian", "name_en": "Futian", "name_zh": "福田区"}},
                                 {"properties": {"id": "x9", "name_en": "Ninth"}}])  # fmt: skip
    assert district_label("futian", "zh-CN", names) == "福田区"
    assert district_label("futian", "th", names) == "ฝูเถียน"  # Shenzhen's Thai names until a city pack has them
    assert district_label("Futian", "zh-CN", names) == "福田区"  # a name works as well as an id
    assert district_label("x9", "th", names) == "Ninth" and district_label("nowhere", "th", names) == "nowhere"


RULE = SimpleNamespace(id="pm25_district_high", summary="PM2.5 in {subject} averages {value:.0f} µg/m³, above "
                       "{threshold:.0f}, for 5 minutes", labels={"team": "env"}, severity="warning", band=None,
                       threshold=75.0, op=">", metric="pm25", for_s=300.0)  # fmt: skip
NAMES = {"futian": {"en": "Futian", "zh-CN": "福田区", "th": "ฝูเถียน"}}


def test_an_alert_summary_is_written_again_in_the_readers_language():
    alert = {
        "rule_id": RULE.id,
        "subject": "futian",
        "value": 171.2,
        "threshold": 75.0,
        "labels": {},
        "summary": "PM2.5 in futian averages 171 µg/m³, above 75, for 5 minutes",
    }
    zh = summary_in(alert, {RULE.id: RULE}, "zh-CN", translations("zh-CN"), NAMES)
    assert zh == "福田区 的 PM2.5 均值为 171 µg/m³，已连续 5 分钟高于 75"
    th = summary_in(alert, {RULE.id: RULE}, "th", translations("th"), NAMES)
    assert th.startswith("PM2.5 ในฝูเถียน เฉลี่ย 171")
    gone = summary_in({**alert, "rule_id": "deleted_rule"}, {RULE.id: RULE}, "th", translations("th"), NAMES)
    assert gone == alert["summary"]  # no rule left to write it again: the words it fired with


def test_a_band_alert_and_a_held_back_alert_in_chinese():
    band = SimpleNamespace(
        id="band_water_level_level_m",
        band="water_level/level_m",
        metric="level_m",
        severity="critical",
        op=">=",
        threshold=2.8,
        for_s=120.0,
        labels={},
        summary="x",
    )
    text = summary_in({"rule_id": band.id, "subject": "wl-1", "value": 3.1, "threshold": 2.8}, {band.id: band},
                      "zh-CN", translations("zh-CN"))  # fmt: skip
    assert text == "wl-1 的水位读数为 3.1：严重（≥ 2.8，分级 water_level/level_m），持续 2分钟"
    held = summary_in({"rule_id": "r", "subject": "(more subjects)", "value": 12, "threshold": 50}, {}, "zh-CN",
                      translations("zh-CN"))  # fmt: skip
    assert held.startswith("r：已有 50 条告警未关闭；另有 12 个")


def test_a_webhook_line_in_thai_names_who_acted_and_when_in_the_display_zone():
    alert = {
        "id": 7,
        "rule_id": RULE.id,
        "subject": "futian",
        "severity": "warning",
        "value": 171.2,
        "threshold": 75.0,
        "labels": {},
        "summary": "…",
    }
    line = webhook_text("alert.acknowledged", alert, {"actor": "li.wei", "at": MOMENT}, "th", "Asia/Bangkok",
                        [RULE], NAMES)  # fmt: skip
    assert line.startswith("[เตือน] การแจ้งเตือน #7 รับทราบโดย li.wei เมื่อ 24 พ.ย. 2026 15:30:05: PM2.5 ในฝูเถียน")


def test_the_page_says_its_language_and_carries_the_browsers_strings_safely():
    page = html_with_language("<!DOCTYPE html><html><head><title>x</title></head><body></body></html>", "th")
    assert '<html lang="th">' in page and 'id="ioc-i18n"' in page and "</script></head>" in page
    assert back_to("http://ioc.example/alerts?alert=5&lang=th") == "/alerts?alert=5"
    assert back_to(None) == "/"


def test_a_webhook_line_that_cannot_be_written_leaves_the_message_without_one(caplog):
    def unreadable_rules():
        raise FileNotFoundError("alert_rules.toml")

    text = texter("zh-CN", "Asia/Shanghai", unreadable_rules)
    assert text("alert.firing", {"id": 3, "severity": "critical"}, {}) == ""
    assert "no webhook text for alert 3" in caplog.text
    assert texter("zh-CN", "Asia/Shanghai", lambda: [RULE], NAMES)(
        "alert.firing", {"id": 3, "severity": "critical", "rule_id": RULE.id, "subject": "futian", "value": 80.0}, {}
    ).startswith("[严重] 告警 #3 触发：福田区 的 PM2.5 均值为 80")
