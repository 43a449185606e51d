"""The ingest pipeline page: a table per stream of what came in, what was stored, what was refused."""

from __future__ import annotations

from dash import dcc, html

from layouts import ids

REFRESH_MS = 2000


def pipeline_layout() -> html.Div:
    """Page skeleton; the table is filled by ``callbacks.pipeline``."""
    return html.Div([
        html.H1("Ingest pipeline"),
        html.P(id=ids.PIPELINE_UPDATED, className="muted"),
        html.Div(id=ids.PIPELINE_TABLE),
        dcc.Interval(id=ids.PIPELINE_TICK, interval=REFRESH_MS),
    ])  # fmt: skip


COLUMNS = ("stream", "length", "lag", "pending", "parsed", "rejected", "too_many_new")


def pipeline_table(rows: list[dict]) -> html.Table:
    """One row per stream: length, lag, pending, parsed, rejected, and of those rejected, how many were of new
    ids past the per-minute cap (a runaway producer shows here first)."""
    head = ["stream", "entries kept", "waiting (lag)", "in flight (pending)", "stored", "rejected",
            "of which new ids over the cap"]  # fmt: skip
    return html.Table([
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody([html.Tr([html.Td(f"{row.get(k, 0):,}" if isinstance(row.get(k, 0), int) else row[k])
                             for k in COLUMNS]) for row in rows]),
    ], className="data-table")  # fmt: skip
