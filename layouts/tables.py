"""Plain tables and local times shared by the console pages (alerts, admin, audit); pure builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import html


def when(moment: datetime | None, timezone: str) -> str:
    """``2026-11-24 16:30:05`` in the city's time zone; empty for none."""
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S")


def data_table(
    head: Sequence[str], rows: Sequence[Sequence], row_classes: Sequence[str] | None = None, class_name: str = ""
) -> html.Table:
    """A table of text cells (or components); each row may carry a class."""
    classes = row_classes or [""] * len(rows)
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in head])),
            html.Tbody(
                [html.Tr([html.Td(c) for c in row], className=css) for row, css in zip(rows, classes, strict=True)]
            ),
        ],
        className=f"data-table {class_name}".strip(),
    )
