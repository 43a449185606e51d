"""Refresh the pipeline table from the ingest counters and the streams' group info; list, inspect and (admins)
replay the dead letters through ``services.dead_letters``, the same command ``ioc deadletter`` runs."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import Dash, Input, Output, State, no_update

from auth.command import Refused
from auth.roles import Permission
from auth.web import current_principal, requires
from callbacks.clicks import clicked
from i18n import current
from i18n.current import _
from layouts import ids
from layouts.pipeline import codes_table, letter_label, letter_text, pipeline_table
from streams.complaints import KNOWN_FIELDS as COMPLAINT_FIELDS
from streams.replay import BadLetterAt, Selection, parse_since

LETTERS_LISTED = 50
REPLAY_PER_CLICK = 5000  # one press replays at most this many; the message says when more remain
# What a complaint's letter shows to someone who may not read complaint text: the contract's fields but the words.
COMPLAINT_PUBLIC = COMPLAINT_FIELDS - {b"description"}


def register(app: Dash, services) -> None:
    @app.callback(Output(ids.PIPELINE_TABLE, "children"), Output(ids.PIPELINE_UPDATED, "children"),
                  Input(ids.PIPELINE_TICK, "n_intervals"))
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh(_n: int | None):
        status = services.pipeline_status()
        age = status["last_commit_age_s"]
        said = _("no commit yet") if age is None else _("last commit {age} ago").format(age=current.unit(age, "s"))
        forgotten = status.get("forgotten_devices", 0)
        if forgotten:
            said += " · " + _("{count} device readings left current state (silent past "
                              "IOC_DEVICE_FORGET_AFTER_HOURS)").format(count=current.number(forgotten))
        updated = _("Updated {time}").format(time=current.clock(datetime.now(UTC)))
        return pipeline_table(status["streams"]), f"{updated} · {said}"

    @app.callback(Output(ids.PIPELINE_DLQ_CODES, "children"), Output(ids.PIPELINE_DLQ_SUMMARY, "children"),
                  Output(ids.PIPELINE_DLQ_CODE, "options"), Output(ids.PIPELINE_DLQ_PICK, "options"),
                  Input(ids.PIPELINE_DLQ_CODE, "value"), Input(ids.PIPELINE_DLQ_SINCE, "value"),
                  Input(ids.PIPELINE_DLQ_REFRESH, "n_clicks"), Input(ids.PIPELINE_DLQ_CHANGED, "data"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def letters(code, since, _refresh, _changed):
        box = services.dead_letters.letters
        counted = box.refused_by_code()
        on_stream = box.length()
        try:
            selection = _selection(code, since)
        except ValueError as bad:
            return codes_table(counted, on_stream), str(bad), _code_options(counted), []
        found = box.newest(selection, LETTERS_LISTED)
        picks = [{"label": f"{f.letter_id} · " + _("not a letter the IOC wrote"), "value": f.letter_id}
                 if isinstance(f, BadLetterAt) else
                 {"label": letter_label(f.letter_id, f.code, f.reason, f.at_ms), "value": f.letter_id}
                 for f in found]  # fmt: skip
        said = _("{count} letters on the dead-letter stream; the newest {shown} of {selection}:").format(
            count=current.number(on_stream), shown=current.number(len(found)), selection=_describe(selection))
        return codes_table(counted, on_stream), said, _code_options(counted), picks

    @app.callback(Output(ids.PIPELINE_DLQ_LETTER, "children"), Input(ids.PIPELINE_DLQ_PICK, "value"))
    @requires(Permission.VIEW_DASHBOARDS)
    def inspect(letter_id):
        if not isinstance(letter_id, str) or not letter_id:
            return ""
        box = services.dead_letters.letters
        letter = box.show(letter_id[:64])
        if letter is None:
            return _("No such letter (replayed or trimmed since the list was made).")
        if isinstance(letter, BadLetterAt):
            return f"letter   {letter.letter_id}\nnot a letter the IOC wrote ({letter.size:,} bytes): {letter.why}"
        principal = current_principal()
        private = letter.stream == services.settings.stream_complaints and not (
            principal is not None and principal.may(Permission.READ_COMPLAINT_TEXT))
        return letter_text(letter, box.refusal(letter), COMPLAINT_PUBLIC if private else None)

    @app.callback(Output(ids.PIPELINE_DLQ_MESSAGE, "children"), Output(ids.PIPELINE_DLQ_CHANGED, "data"),
                  Input(ids.PIPELINE_DLQ_REPLAY, "n_clicks"), State(ids.PIPELINE_DLQ_CODE, "value"),
                  State(ids.PIPELINE_DLQ_SINCE, "value"), State(ids.PIPELINE_DLQ_CHANGED, "data"),
                  prevent_initial_call=True)  # fmt: skip
    @requires(Permission.REPLAY_DEAD_LETTERS)
    def replay(_clicks, code, since, changed):
        if not clicked():
            return no_update, no_update
        try:
            selection = _selection(code, since)
        except ValueError as bad:
            return str(bad), no_update
        try:
            report = services.dead_letters.replay(current_principal(), selection, limit=REPLAY_PER_CLICK)
        except Refused as refused:
            return str(refused), no_update
        said = _("Letters of {selection}: {report}.").format(selection=_describe(selection), report=_summary(report))
        return said, (changed if isinstance(changed, int) else 0) + 1


def _describe(selection: Selection) -> str:
    """``code too_large since 2026-11-24 16:30:05``, in the request's language."""
    said = _("code {code}").format(code=selection.code or _("any"))
    if selection.since_ms is None:
        return said
    since = datetime.fromtimestamp(selection.since_ms / 1000, UTC)
    return said + " " + _("since {time}").format(time=current.date_time(since))


def _summary(report) -> str:
    """What a replay did (``ReplayReport``), in the request's language."""
    said = _("replayed {replayed} of {examined} letters examined").format(
        replayed=current.number(report.replayed), examined=current.number(report.examined))
    if report.by_stream:
        said += " (" + ", ".join(_("{count} to {stream}").format(count=current.number(n), stream=s)
                                 for s, n in sorted(report.by_stream.items())) + ")"
    if report.refused_count:
        said += "; " + _("refused {count} (left in the dead letter)").format(count=current.number(report.refused_count))
    if report.more:
        said += "; " + _("more remain: run it again")
    return said


def _selection(code: object, since: object) -> Selection:
    """The filter as sent by the browser (anything may arrive): a short code and a time, or ``ValueError``."""
    code = code.strip()[:64] if isinstance(code, str) and code.strip() else None
    return Selection(code=code, since_ms=parse_since(since if isinstance(since, str) else None, datetime.now(UTC)))


def _code_options(counted: list[tuple[str, str, int]]) -> list[dict]:
    return [{"label": code, "value": code} for code in sorted({code for _, code, _ in counted})]
