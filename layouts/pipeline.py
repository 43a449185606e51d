"""The ingest pipeline page: a table per stream of what came in, what was stored, what was refused; the dead
letters by code, an inspector of one letter, and for admins a Replay button."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from dash import dcc, html

from layouts import ids
from streams.deadletter import Letter, shown

REFRESH_MS = 2000
FIELD_CHARS = 500  # of one value in the inspector
FIELDS_SHOWN = 100
LABEL_CHARS = 80
WITHHELD = "(withheld: complaint text is for operators and admins)"


def pipeline_layout(can_replay: bool = False) -> html.Div:
    """Page skeleton; the tables are filled by ``callbacks.pipeline``. ``can_replay``: the Replay button (the
    server checks the role again when it is pressed)."""
    return html.Div([
        html.H1("Ingest pipeline"),
        html.P(id=ids.PIPELINE_UPDATED, className="muted"),
        html.Div(id=ids.PIPELINE_TABLE),
        dcc.Interval(id=ids.PIPELINE_TICK, interval=REFRESH_MS),
        dead_letters_section(can_replay),
    ])  # fmt: skip


def dead_letters_section(can_replay: bool) -> html.Section:
    """Codes, the filter (code, since), the newest letters to pick from, the picked letter as text."""
    replay = [
        html.Button("Replay", id=ids.PIPELINE_DLQ_REPLAY, className="btn"),
        html.P("Puts the letters of this code and time back on their streams, to be judged again by ingest: one "
               "now accepted is stored once; one still bad comes back with its reason. Recorded in the audit trail.",
               className="muted"),
    ] if can_replay else []  # fmt: skip
    return html.Section([
        html.H2("Dead letters"),
        html.P(id=ids.PIPELINE_DLQ_SUMMARY, className="muted"),
        html.Div(id=ids.PIPELINE_DLQ_CODES),
        html.Div([
            _field("code", dcc.Dropdown(id=ids.PIPELINE_DLQ_CODE, options=[], placeholder="any code"),
                   ids.PIPELINE_DLQ_CODE),
            _field("since (ISO time or 30m, 2h, 7d)", dcc.Input(id=ids.PIPELINE_DLQ_SINCE, maxLength=40,
                                                                 debounce=True), ids.PIPELINE_DLQ_SINCE),
            html.Button("Refresh", id=ids.PIPELINE_DLQ_REFRESH, className="btn"),
            *replay,
        ], className="admin-form"),
        html.Div(id=ids.PIPELINE_DLQ_MESSAGE, className="alerts-message", role="status"),
        _field("letter", dcc.Dropdown(id=ids.PIPELINE_DLQ_PICK, options=[], placeholder="pick a letter to inspect"),
               ids.PIPELINE_DLQ_PICK),
        html.Pre(id=ids.PIPELINE_DLQ_LETTER, className="dlq-letter"),
        dcc.Store(id=ids.PIPELINE_DLQ_CHANGED, data=0),
    ], className="panel")  # fmt: skip


def _field(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id, id=f"{control_id}-label"), control], className="form-field")


def codes_table(rows: list[tuple[str, str, int]], on_stream: int) -> html.Table | html.P:
    """Entries refused per stream and code (since the counters began), newest counters first."""
    if not rows:
        return html.P(f"Nothing refused yet; {on_stream:,} letters on the stream.", className="muted")
    return html.Table([
        html.Thead(html.Tr([html.Th("stream"), html.Th("code"), html.Th("refused")])),
        html.Tbody([html.Tr([html.Td(stream), html.Td(code), html.Td(f"{n:,}")]) for stream, code, n in rows]),
    ], className="data-table")  # fmt: skip


def letter_label(letter_id: str, code: str, reason: str, at_ms: int) -> str:
    """How a letter is offered in the picker: when, code, reason (text, bounded)."""
    when = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if at_ms else "?"
    return f"{when} · {code} · {shown(reason.encode(), LABEL_CHARS)} · {letter_id}"


def letter_text(letter: Letter, refusal: str | None, public: Collection[bytes] | None = None) -> str:
    """One letter as plain text (shown in a ``<pre>``, never as HTML), each value cut to ``FIELD_CHARS``.

    ``public``: when given, only these fields' values are shown (a complaint's letter to someone who may not read
    complaint text); the others are withheld."""
    lines = [f"letter   {letter.letter_id}", f"code     {letter.code}",
             f"reason   {shown(letter.reason.encode(), 1000)}",
             f"stream   {shown(letter.stream.encode(), 256)}, entry {letter.entry_id}"
             + (f" (first {letter.original_id}, replayed {letter.replays}x)" if letter.replays else "")]  # fmt: skip
    if letter.truncated:
        lines.append("cut      the letter does not hold the whole entry")
    if refusal:
        lines.append(f"replay   refused: {refusal}")
    lines.append("fields")
    for n, (name, value) in enumerate(letter.fields.items()):
        if n == FIELDS_SHOWN:
            lines.append(f"  … and {len(letter.fields) - FIELDS_SHOWN:,} more fields")
            break
        said = shown(value, FIELD_CHARS) if public is None or name in public else WITHHELD
        lines.append(f"  {shown(name, 64)} = {said}")
    return "\n".join(lines)


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
