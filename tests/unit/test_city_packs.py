"""City packs: the shipped ones load, a broken one is refused with every problem at once, names fall back to
English, and IOC_CITY runs the settings from a pack while a setting still overrides it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from cities import CityPackError, load_city, shipped_packs
from cities.pack import PACKS_DIR
from settings import REPO_ROOT, Settings


def test_both_shipped_packs_load():
    assert shipped_packs() == ["new-york", "shenzhen"]
    shenzhen, new_york = load_city("shenzhen"), load_city("new-york")
    assert (shenzhen.timezone, len(shenzhen.district_names)) == ("Asia/Shanghai", 9)
    assert (new_york.timezone, len(new_york.district_names)) == ("America/New_York", 59)
    assert new_york.file.kpi.pue_target < new_york.file.kpi.pue_baseline
    assert {c.name for c in new_york.file.simulator.complaints} >= {"noise_residential", "heat_hot_water"}


def test_district_and_city_names_fall_back_to_english():
    shenzhen, new_york = load_city("shenzhen"), load_city("new-york")
    assert shenzhen.district_name("futian", "zh-CN") == "福田区"  # zh-CN finds the pack's `zh`
    assert shenzhen.district_name("futian", "th") == "Futian"  # no Thai name in the source: English
    assert new_york.district_name("mn01", "zh-CN") == "Manhattan CD 1"
    assert new_york.district_name("nowhere", "en") == "nowhere"
    assert new_york.name("th") == "นครนิวยอร์ก" and new_york.name("fr") == "New York City"


def _broken_pack(tmp_path: Path) -> Path:
    """The New York pack with one mistake of each kind."""
    pack = tmp_path / "broken"
    shutil.copytree(PACKS_DIR / "new-york", pack)
    (pack / "SOURCE.md").unlink()
    toml = (pack / "city.toml").read_text(encoding="utf-8")
    for old, new in [
        ('timezone = "America/New_York"', 'timezone = "America/Gotham"'),
        ("pue_target = 1.4 ", "pue_target = 1.7 "),
        ("mn01 = 0.141", "mn01 = 0.141\nmn99 = 0.5"),
        ('complaint_category = "sewer"', 'complaint_category = "alligators"'),
        ("channels = { hotline", "channels = { pigeon = 0.1, hotline"),
        ("[simulator.devices.noise]\nshare = 0.20", "[simulator.devices.noise]\nshare = 0.20\nloudness = 11"),
    ]:
        assert old in toml, old
        toml = toml.replace(old, new)
    (pack / "city.toml").write_text(toml, encoding="utf-8")
    districts = json.loads((pack / "districts.geojson").read_text(encoding="utf-8"))
    districts["features"][1]["properties"]["id"] = "mn01"  # twice
    del districts["features"][2]["properties"]["name_en"]
    districts["features"][3]["geometry"]["coordinates"][0][0][0] = [116.4, 39.9]  # a vertex in Beijing
    (pack / "districts.geojson").write_text(json.dumps(districts), encoding="utf-8")
    return pack


def test_a_broken_pack_is_refused_with_every_problem_at_once(tmp_path):
    with pytest.raises(CityPackError) as refused:
        load_city(str(_broken_pack(tmp_path)))
    text = "\n".join(refused.value.problems)
    for expected in ["SOURCE.md is missing", "city.timezone", "America/Gotham", "pue_target 1.7 must be below",
                     "mn99", "alligators", "pigeon", "loudness", "'mn01' is used twice",
                     "feature 3: needs an English name", "feature 4: reaches outside the city's bounds"]:  # fmt: skip
        assert expected in text, f"{expected!r} not reported in:\n{text}"
    assert len(refused.value.problems) == 10  # one line per problem: the timezone is one


def test_a_pack_without_files_says_so(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CityPackError) as refused:
        load_city(str(tmp_path / "empty"))
    text = "\n".join(refused.value.problems)
    assert "city.toml is missing" in text and "districts.geojson: the district boundaries file is missing" in text


def test_an_unknown_pack_name_lists_the_shipped_ones():
    with pytest.raises(CityPackError, match="shipped: new-york, shenzhen"):
        load_city("atlantis")


def test_ioc_city_runs_the_settings_from_the_pack(monkeypatch):
    monkeypatch.setenv("IOC_CITY", "new-york")
    settings = Settings()
    assert settings.city_timezone == "America/New_York"
    assert settings.districts_geojson == PACKS_DIR / "new-york" / "districts.geojson"
    assert settings.city_bounds == (-74.30, 40.45, -73.65, 40.95)
    assert settings.alert_rules_file == PACKS_DIR / "new-york" / "alert_rules.toml"
    assert settings.sim_complaints_per_hour == 1500
    assert settings.city_pack.key == "new-york"


def test_a_setting_overrides_the_packs_value(monkeypatch):
    monkeypatch.setenv("IOC_CITY", "new-york")
    monkeypatch.setenv("IOC_CITY_TIMEZONE", "UTC")
    monkeypatch.setenv("IOC_SIM_COMPLAINTS_PER_HOUR", "10")
    settings = Settings()
    assert (settings.city_timezone, settings.sim_complaints_per_hour) == ("UTC", 10)
    assert settings.city_bounds == (-74.30, 40.45, -73.65, 40.95)  # not overridden: the pack's


def test_the_default_city_is_shenzhen_with_the_default_rules():
    settings = Settings()
    assert (settings.city, settings.city_timezone) == ("shenzhen", "Asia/Shanghai")
    assert settings.alert_rules_file == REPO_ROOT / "config" / "alert_rules.toml"


def test_a_pack_directory_path_works_and_a_broken_one_stops_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("IOC_CITY", str(PACKS_DIR / "new-york"))
    assert Settings().city_timezone == "America/New_York"
    monkeypatch.setenv("IOC_CITY", str(_broken_pack(tmp_path)))
    with pytest.raises(ValidationError, match="America/Gotham"):
        Settings()


@pytest.mark.parametrize("name", ["..", "../shenzhen/districts.geojson", "/etc/passwd", ".hidden"])
def test_a_pack_reads_only_its_own_files(tmp_path, name):
    pack = tmp_path / "elsewhere"
    shutil.copytree(PACKS_DIR / "new-york", pack)
    toml = (pack / "city.toml").read_text(encoding="utf-8")
    (pack / "city.toml").write_text(toml.replace('districts = "districts.geojson"', f"districts = {name!r}"))
    with pytest.raises(CityPackError, match="a file name inside the pack's directory"):
        load_city(str(pack))
