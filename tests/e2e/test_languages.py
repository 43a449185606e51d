"""English, Chinese and Thai in a real browser: an operator signs in in Chinese and acknowledges an alert; a wall
runs in Thai from its display URL; and no page in Chinese or Thai shows an English word of ours (a walk over the
visible text of every page, proper nouns, identifiers, units and numbers allowed)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

import bootstrap
from auth.principal import cli_principal
from tests.e2e import feed
from tests.e2e.conftest import _page, fire, screenshot, settle
from tests.integration.conftest import wait_until

# Words of no language (acronyms, units, names) a Chinese or Thai page writes as they are.
ALLOWED_WORDS = {"IOC", "PUE", "SLA", "CSV", "HTTP", "URL", "SSO", "IT", "ISO", "PM", "kW", "MW", "dB", "km",
                 "Webhook", "Leaflet", "English", "API", "KPI", "GeoJSON"}  # fmt: skip
# A token with a digit, an underscore, a colon, a dot, an at sign or an equals sign is an identifier or a figure:
# a device, rule or stream id, a time, a number with its unit, a label (team=water), a setting name.
IDENTIFIER = re.compile(r"\S*[\d_:.@=]\S*")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
PAGES = ("/", "/map", "/complaints", "/datacenters", "/history", "/pipeline", "/alerts", "/incidents", "/admin",
         "/audit", "/wall")
# Every text node a person can see (SVG too: chart titles, axes and legends), and the placeholders of inputs.
# Inside <code> and <pre> is machine text (JSON details, a dead letter's raw fields) and is left out.
VISIBLE_TEXT = """() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = node.textContent.trim();
        const el = node.parentElement;
        if (!text || !el || el.closest("script, style, noscript, code, pre")) { continue; }
        const style = getComputedStyle(el);
        if (style.visibility === "hidden" || style.display === "none" || !el.getClientRects().length) { continue; }
        out.push(text);
    }
    document.querySelectorAll("input[placeholder]").forEach(function (i) {
        if (i.getClientRects().length) { out.push(i.placeholder); }
    });
    return out;
}"""


def english_left(texts: list[str], allowed_phrases: set[str]) -> list[str]:
    """The texts that still hold an English word once names, identifiers, units and numbers are taken out."""
    found = []
    for text in texts:
        rest = text
        for phrase in sorted(allowed_phrases, key=len, reverse=True):
            rest = rest.replace(phrase, " ")
        words = [w for w in LATIN_WORD.findall(IDENTIFIER.sub(" ", rest)) if w not in ALLOWED_WORDS]
        if words:
            found.append(f"{text!r}: {', '.join(words)}")
    return found


def test_the_walk_finds_english_and_passes_names_ids_and_units():
    """The checker itself: it must catch an untranslated label and let data through."""
    assert english_left(["告警 Acknowledge"], set()) == ["'告警 Acknowledge': Acknowledge"]
    assert english_left(["传感器 sz-aq-futian-00001 PM2.5 37.5 ug/m3 · PUE 1.27 · 12.5 kW", "chen.jing"], set()) == []
    assert english_left(["dc-qianhai 设施"], {"dc-qianhai"}) == []


def _data_phrases(settings, accounts) -> set[str]:
    """What the session's data names in its own words: people (user and full names, as other tests made them),
    data-centre sites, and the stored summaries of open alerts (and incidents' titles, which are such summaries)
    whose rules (the tests' own rules file) have no translation in the catalogue."""
    with bootstrap.db_connection(settings) as conn:
        summaries = {row[0] for row in conn.execute("SELECT summary FROM alerts WHERE status <> 'resolved'")}
        summaries |= {row[0] for row in conn.execute("SELECT title FROM incidents")}  # an alert's summary too
        people = {name for row in conn.execute("SELECT username, full_name FROM auth_users") for name in row if name}
    return people | {a.username for a in accounts.values()} | {site for site, _it, _pue in feed.SITES} | summaries


def _walk(page, url: str) -> list[str]:
    page.goto(url)
    settle(page)
    page.wait_for_timeout(300)  # a last repaint after the quiet moment (charts draw after their callback)
    return page.evaluate(VISIBLE_TEXT)


def test_an_operator_signs_in_in_chinese_and_acknowledges_an_alert(signed_out, served, alerting, accounts):
    page, operator = signed_out, accounts["operator"]
    device_id = f"aq-zh-{time.time_ns()}"
    page.goto(f"{alerting.server.url}/login?lang=zh-CN&next=/alerts")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h2")).to_have_text("登录")
    page.locator("#username").fill(operator.username)
    page.locator("#password").fill(operator.password)
    page.locator("button[type=submit]").click()
    expect(page).to_have_url(alerting.server.url + "/alerts")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("告警")
    alert = fire(alerting, device_id)
    row = page.locator(".ag-row", has_text=device_id).first
    expect(row).to_be_visible(timeout=20_000)
    expect(row.locator('[col-id="severity"]')).to_have_text("严重")
    expect(row.locator('[col-id="status"]')).to_have_text("告警中")
    row.locator('[col-id="subject"]').click()
    expect(page.locator("#alerts-detail")).to_contain_text(f"#{alert['id']}")
    page.locator("button", has_text="确认").click()
    expect(page.locator("#alerts-message")).to_contain_text(
        f"确认：告警 #{alert['id']} 现为已确认（{operator.username}）"
    )
    history = page.locator(".alerts-history")
    expect(history.locator("tr", has_text="已确认")).to_contain_text(operator.username)
    # The time of the acknowledgement, the Chinese way, in the display time zone.
    expect(history.locator("tr", has_text="已确认").locator("td").first).to_have_text(
        re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d$")
    )
    with bootstrap.db_connection(alerting.settings) as conn:
        status = conn.execute("SELECT status, acknowledged_by FROM alerts WHERE id = %s", (alert["id"],)).fetchone()
    assert status == ("acknowledged", operator.username)

    # The webhook's line for people is in the city's language (IOC_DEFAULT_LANGUAGE, English here), not the officer's.
    def acknowledged() -> list[dict]:
        return [d.json["data"] for d in alerting.receiver.deliveries
                if d.json["type"] == "alert.acknowledged" and d.json["data"]["alert"]["id"] == alert["id"]]  # fmt: skip

    (sent,) = wait_until(acknowledged, timeout=20, what="the acknowledged webhook")
    assert sent["language"] == "en"
    assert sent["text"].startswith(f"[critical] Alert #{alert['id']} acknowledged by {operator.username} at ")
    settle(page)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "desktop-alerts-zh")
    assert page.console.errors == [], page.console.errors


@pytest.mark.parametrize("language", ["zh-CN", "th"])
def test_no_page_shows_an_english_word_in_chinese_or_thai(  # after an alert fired: the console has rows
    browser, served, accounts, e2e_settings, language
):
    context, page = _page(browser, 1440, 900, (served.url, accounts["admin"]))
    try:
        page.goto(f"{served.url}/?lang={language}")  # the URL's language stays with this browser's session
        expect(page.locator("html")).to_have_attribute("lang", language)
        problems: dict[str, list[str]] = {}
        for path in PAGES:
            texts = _walk(page, served.url + path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            left = english_left(texts, _data_phrases(e2e_settings, accounts))
            if left:
                problems[path] = left
        signed_out = context.browser.new_context(viewport={"width": 1440, "height": 900})
        login = signed_out.new_page()
        login.goto(f"{served.url}/login?lang={language}")
        left = english_left(login.evaluate(VISIBLE_TEXT), set())
        if left:
            problems["/login"] = left
        signed_out.close()
        assert not problems, f"English on {language} pages: {problems}"
        assert page.console.errors == [], page.console.errors
    finally:
        context.close()


def test_the_language_an_officer_chooses_is_kept_on_the_account(browser, served, accounts, e2e_settings):
    context, page = _page(browser, 1440, 900, (served.url, accounts["viewer"]))
    try:
        page.goto(served.url + "/datacenters")
        expect(page.locator("html")).to_have_attribute("lang", e2e_settings.default_language)
        page.locator(".shell-language button[value=th]").click()
        expect(page).to_have_url(served.url + "/datacenters")
        expect(page.locator("html")).to_have_attribute("lang", "th")
        expect(page.locator("h1")).to_have_text("ศูนย์ข้อมูล")
        with bootstrap.db_connection(e2e_settings) as conn:
            stored = conn.execute("SELECT language FROM auth_users WHERE username = %s",
                                  (accounts["viewer"].username,)).fetchone()[0]  # fmt: skip
        assert stored == "th"
        page.goto(served.url + "/?lang=zh-CN")  # the address bar still wins, for this browser session
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        page.goto(served.url + "/?lang=klingon")
        assert "lang is one of en, zh-CN, th" in page.content()
        page.goto(served.url + "/")
        page.locator(".shell-language button[value=en]").click()  # back to English, stored, cookie cleared
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()


def test_a_wall_runs_in_thai_from_its_display_url(browser, served, e2e_settings):
    commands = bootstrap.access_commands(e2e_settings, lambda: bootstrap.db_connection(e2e_settings))
    name = f"lobby-th-{time.time_ns()}"
    issued = commands.issue_display(cli_principal("tests"), name, ["overview", "energy"], 5, "th")
    context, page = _page(browser, 1920, 1080)  # nobody signed in: the display link is all the screen has
    try:
        page.goto(f"{served.url}/wall?token={issued.secret}")
        expect(page).to_have_url(f"{served.url}/wall")
        expect(page.locator("html")).to_have_attribute("lang", "th")
        expect(page.locator("#wall-title")).to_have_text("ภาพรวมเมือง")
        expect(page.locator(".wall-brand")).to_have_text("IOC เซินเจิ้น")
        expect(page.locator(".freshness")).to_contain_text("สด · ข้อมูลเมื่อ", timeout=20_000)
        tile = page.locator('[id*="\\"devices_online_pct\\""]').filter(visible=True).first
        expect(tile.locator(".kpi-label")).to_have_text("อุปกรณ์ออนไลน์")
        wait_until(lambda: re.search(r"\d", tile.locator(".kpi-value").inner_text() or ""), what="a KPI figure")
        settle(page)
        screenshot(page, "wall-overview-th")
        expect(page.locator("#wall-title")).to_have_text("ศูนย์ข้อมูลและพลังงาน", timeout=15_000)
        expect(page.locator(".wall-sites").first).to_contain_text("PUE ขณะนี้")
        left = english_left(page.evaluate(VISIBLE_TEXT), {site for site, _it, _pue in feed.SITES})
        assert not left, left
        assert page.console.errors == [], page.console.errors
    finally:
        context.close()
