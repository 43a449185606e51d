"""Plain tables and local times shared by the console pages (alerts, admin, audit); pure builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dash import html

from i18n import formats
from i18n.current import language


def when(moment: datetime | None, timezone: str) -> str:
    """``Nov 24, 2026, 16:30:05`` / ``2026年11月24日 16:30:05`` in ``timezone`` and the request's language; empty
    for none."""
    return "" if moment is None else formats.date_time(moment, language(), timezone)


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
