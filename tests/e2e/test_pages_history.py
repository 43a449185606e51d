"""The history page in a real browser: a district chart, a device chart, and the CSV export."""

import pytest

from tests.e2e.city_seed import seeded_city

pytestmark = pytest.mark.e2e


def test_history_draws_districts_and_exports_csv(desktop, served, e2e_settings, tmp_path):
    seeded_city(e2e_settings)
    desktop.goto(served.url + "/history")
    desktop.wait_for_selector("#history-chart .legendtext")
    with desktop.expect_download() as download:
        desktop.locator("#history-export").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0] == "bucket,series,readings,mean,low,high" and len(lines) > 1
    assert saved.name.endswith(".csv")
    assert desktop.console.errors == []


def test_history_by_device_reads_raw_readings(desktop, served, e2e_settings):
    city = seeded_city(e2e_settings)
    desktop.goto(served.url + "/history")
    desktop.wait_for_selector("#history-chart .main-svg")
    desktop.locator("#history-mode label", has_text="By device").click()
    desktop.locator("#history-metric").click()
    desktop.locator("[role=option], .Select-option").filter(has_text="PM2.5").first.click()
    desktop.locator("#history-device").fill(city.history_device)
    desktop.locator("#history-device").press("Enter")
    desktop.wait_for_selector(f"#history-chart .legendtext >> text={city.history_device}")
    assert desktop.console.errors == []
