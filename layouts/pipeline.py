"""The ingest pipeline page: a table per stream of what came in, what was stored, what was refused; the dead
letters by code, an inspector of one letter, and for admins a Replay button."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from dash import dcc, html

from i18n import current
from i18n.current import N_, _
from layouts import ids
from streams.deadletter import Letter, shown

REFRESH_MS = 2000
FIELD_CHARS = 500  # of one value in the inspector
FIELDS_SHOWN = 100
LABEL_CHARS = 80
WITHHELD = N_("(withheld: complaint text is for operators and admins)")


def pipeline_layout(can_replay: bool = False) -> html.Div:
    """Page skeleton; the tables are filled by ``callbacks.pipeline``. ``can_replay``: the Replay button (the
    server checks the role again when it is pressed)."""
    return html.Div([
        html.H1(_("Ingest pipeline")),
        html.P(id=ids.PIPELINE_UPDATED, className="muted"),
        html.Div(id=ids.PIPELINE_TABLE),
        dcc.Interval(id=ids.PIPELINE_TICK, interval=REFRESH_MS),
        dead_letters_section(can_replay),
    ])  # fmt: skip


def dead_letters_section(can_replay: bool) -> html.Section:
    """Codes, the filter (code, since), the newest letters to pick from, the picked letter as text."""
    replay = [
        html.Button(_("Replay"), id=ids.PIPELINE_DLQ_REPLAY, className="btn"),
        html.P(_("Puts the letters of this code and time back on their streams, to be judged again by ingest: one "
                 "now accepted is stored once; one still bad comes back with its reason. Recorded in the audit "
                 "trail."), className="muted"),
    ] if can_replay else []  # fmt: skip
    return html.Section([
        html.H2(_("Dead letters")),
        html.P(id=ids.PIPELINE_DLQ_SUMMARY, className="muted"),
        html.Div(id=ids.PIPELINE_DLQ_CODES),
        html.Div([
            _field(_("code"), dcc.Dropdown(id=ids.PIPELINE_DLQ_CODE, options=[], placeholder=_("any code")),
                   ids.PIPELINE_DLQ_CODE),
            _field(_("since (ISO time or 30m, 2h, 7d)"), dcc.Input(id=ids.PIPELINE_DLQ_SINCE, maxLength=40,
                                                                    debounce=True), ids.PIPELINE_DLQ_SINCE),
            html.Button(_("Refresh"), id=ids.PIPELINE_DLQ_REFRESH, className="btn"),
            *replay,
        ], className="admin-form"),
        html.Div(id=ids.PIPELINE_DLQ_MESSAGE, className="alerts-message", role="status"),
        _field(_("letter"), dcc.Dropdown(id=ids.PIPELINE_DLQ_PICK, options=[],
                                         placeholder=_("pick a letter to inspect")), ids.PIPELINE_DLQ_PICK),
        html.Pre(id=ids.PIPELINE_DLQ_LETTER, className="dlq-letter"),
        dcc.Store(id=ids.PIPELINE_DLQ_CHANGED, data=0),
    ], className="panel")  # fmt: skip


def _field(label: str, control, control_id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=control_id, id=f"{control_id}-label"), control], className="form-field")


def codes_table(rows: list[tuple[str, str, int]], on_stream: int) -> html.Table | html.P:
    """Entries refused per stream and code (since the counters began), newest counters first."""
    if not rows:
        return html.P(
            _("Nothing refused yet; {count} letters on the stream.").format(count=current.number(on_stream)),
            className="muted",
        )
    return html.Table([
        html.Thead(html.Tr([html.Th(_("stream")), html.Th(_("code")), html.Th(_("refused"))])),
        html.Tbody([html.Tr([html.Td(stream), html.Td(code), html.Td(current.number(n))])
                    for stream, code, n in rows]),
    ], className="data-table")  # fmt: skip


def letter_label(letter_id: str, code: str, reason: str, at_ms: int) -> str:
    """How a letter is offered in the picker: when, code, reason (text, bounded)."""
    when = current.date_time(datetime.fromtimestamp(at_ms / 1000, UTC)) if at_ms else "?"
    return f"{when} · {code} · {shown(reason.encode(), LABEL_CHARS)} · {letter_id}"


def letter_text(letter: Letter, refusal: str | None, public: Collection[bytes] | None = None) -> str:
    """One letter as plain text (shown in a ``<pre>``, never as HTML), each value cut to ``FIELD_CHARS``.

    ``public``: when given, only these fields' values are shown (a complaint's letter to someone who may not read
    complaint text); the others are withheld."""

    def line(label: str, text: str) -> str:  # labels in the request's language, values as they came
        return f"{_(label).ljust(8)} {text}"

    where = _("{stream}, entry {entry}").format(stream=shown(letter.stream.encode(), 256), entry=letter.entry_id)
    if letter.replays:
        where += " " + _("(first {entry}, replayed {count}x)").format(entry=letter.original_id, count=letter.replays)
    lines = [line(N_("letter"), letter.letter_id), line(N_("code"), letter.code),
             line(N_("reason"), shown(letter.reason.encode(), 1000)), line(N_("stream"), where)]  # fmt: skip
    if letter.truncated:
        lines.append(line(N_("cut"), _("the letter does not hold the whole entry")))
    if refusal:
        lines.append(line(N_("replay"), _("refused: {reason}").format(reason=refusal)))
    lines.append(_("fields"))
    for n, (name, value) in enumerate(letter.fields.items()):
        if n == FIELDS_SHOWN:
            lines.append(
                "  " + _("… and {count} more fields").format(count=current.number(len(letter.fields) - FIELDS_SHOWN))
            )
            break
        said = shown(value, FIELD_CHARS) if public is None or name in public else _(WITHHELD)
        lines.append(f"  {shown(name, 64)} = {said}")
    return "\n".join(lines)


COLUMNS = ("stream", "length", "lag", "pending", "parsed", "rejected", "too_many_new")


def pipeline_table(rows: list[dict]) -> html.Table:
    """One row per stream: length, lag, pending, parsed, rejected, and of those rejected, how many were of new
    ids past the per-minute cap (a runaway producer shows here first)."""
    head = [_("stream"), _("entries kept"), _("waiting (lag)"), _("in flight (pending)"), _("stored"), _("rejected"),
            _("of which new ids over the cap")]  # fmt: skip
    return html.Table([
        html.Thead(html.Tr([html.Th(h) for h in head])),
        html.Tbody([html.Tr([html.Td(current.number(row.get(k, 0)) if isinstance(row.get(k, 0), int) else row[k])
                             for k in COLUMNS]) for row in rows]),
    ], className="data-table")  # fmt: skip
