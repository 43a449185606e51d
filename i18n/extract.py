"""A Babel extractor for the alert rules' summary templates (config/alert_rules.toml and the city packs'
cities/*/alert_rules.toml), so translators find them in the catalogue with every other string
(``i18n/babel.cfg``)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import IO


def rule_summaries(fileobj: IO[bytes], keywords, comment_tags, options) -> Iterator[tuple[int, None, str, list]]:
    """(line, function, message, comments) for each ``[[rule]]``'s ``summary``, as Babel's extractors yield."""
    text = fileobj.read().decode("utf-8")
    lines = text.splitlines()
    for rule in tomllib.loads(text).get("rule", []):
        summary = rule.get("summary")
        if not isinstance(summary, str):
            continue
        line = next((n for n, raw in enumerate(lines, 1) if raw.strip().startswith("summary") and summary in raw), 0)
        yield line, None, summary, [f"alert rule {rule.get('id', '?')}: keep the {{placeholders}} as they are"]
