"""Settings parse from the environment, and every one of them is documented."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION.md"


def test_every_setting_is_in_the_configuration_doc():
    text = DOC.read_text()
    missing = [f"IOC_{name.upper()}" for name in Settings.model_fields if f"`IOC_{name.upper()}`" not in text]
    assert not missing, f"document these in docs/CONFIGURATION.md: {missing}"


def test_city_bounds_come_from_a_comma_list(monkeypatch):
    monkeypatch.setenv("IOC_CITY_BOUNDS", "113.7,22.4,114.7,22.9")
    assert Settings().city_bounds == (113.7, 22.4, 114.7, 22.9)


def test_bad_settings_are_refused_clearly(monkeypatch):
    monkeypatch.setenv("IOC_CITY_BOUNDS", "114.7,22.4,113.7,22.9")
    with pytest.raises(ValidationError, match="west<east"):
        Settings()
    monkeypatch.delenv("IOC_CITY_BOUNDS")
    monkeypatch.setenv("IOC_INGEST_BATCH", "0")
    with pytest.raises(ValidationError, match="ingest_batch"):
        Settings()


def test_ioc_config_masks_passwords_and_secrets(monkeypatch):
    monkeypatch.setenv("IOC_DATABASE_URL", "postgresql://ioc:s3cret@db:5432/ioc")
    monkeypatch.setenv("IOC_REDIS_URL", "redis://:r3dis@cache:6379/0")
    monkeypatch.setenv("IOC_ALERT_RECEIVERS", '[{"name": "ops", "url": "https://hooks.example.org/x", '
                                              '"secret": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"}]')
    shown = str(Settings().redacted())
    assert "s3cret" not in shown and "r3dis" not in shown and "MDEyMzQ1" not in shown
    assert "postgresql://ioc:***@db:5432/ioc" in shown and "redis://:***@cache:6379/0" in shown
