"""Scrape a process's /metrics as Prometheus would, parse it with prometheus-client's parser, and check the text
with ``promtool check metrics`` (Debian's `prometheus` package; scripts/test.sh installs it as root)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset], float]


def scrape(url: str, token: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = requests.get(url, headers=headers, timeout=10)
    reply.raise_for_status()
    assert reply.headers["Content-Type"].startswith("text/plain"), reply.headers["Content-Type"]
    return reply.text


def parse(text: str) -> tuple[set[str], Samples]:
    """(the metric family names, every sample by (name, labels))."""
    names, samples = set(), {}
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return names, samples


def value(samples: Samples, name: str, labels: Mapping[str, str] | None = None, default: float | None = 0.0):
    """One sample's value (``default`` when the sample is absent)."""
    return samples.get((name, frozenset((labels or {}).items())), default)


def promtool_check(text: str) -> None:
    """``promtool check metrics`` reports nothing about ``text``; skipped only without promtool."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed: Debian's `prometheus` package provides it (scripts/test.sh installs "
                    "it when run as root on Debian)")  # fmt: skip
    checked = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    report = (checked.stdout + checked.stderr).decode()
    assert checked.returncode == 0 and not report.strip(), report
