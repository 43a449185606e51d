"""Real ingest worker processes for the crash and outage tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pydantic_settings import NoDecode

from settings import Settings

REPO = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings) -> dict[str, str]:
    """The IOC_* environment that reproduces ``settings`` in a child process (non-default fields only)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    for name, value in settings.model_dump(mode="json", exclude_defaults=True).items():
        if NoDecode in Settings.model_fields[name].metadata:
            value = ",".join(str(v) for v in value)  # the comma lists settings.py parses itself
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)  # pydantic-settings decodes complex values from JSON
        env[f"IOC_{name.upper()}"] = str(value)
    return env


def start_ingest(settings: Settings, *args: str, log: Path | None = None) -> subprocess.Popen:
    """`ioc ingest` as a real process."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
    return subprocess.Popen([sys.executable, "-m", "cli.main", "ingest", *args], cwd=REPO, env=settings_env(settings),
                            stdout=out, stderr=subprocess.STDOUT)
