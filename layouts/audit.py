"""The audit trail page (/audit): filters, the newest matching entries, and a CSV export link; pure builders."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlencode

from dash import dcc, html

from auth.audit import OUTCOMES, PAGE_LIMIT, AuditQuery
from i18n import current
from i18n.current import _
from i18n.terms import term
from layouts import ids
from layouts.shell import role_name
from layouts.tables import data_table, when
from layouts.time_range import LABELS

SPANS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30),
         "all": None}  # fmt: skip


def audit_query(filters: Mapping[str, object], now: datetime) -> AuditQuery:
    """The query the page's filters (or the CSV link's parameters) ask for; unknown values match everything."""
    span = SPANS.get(str(filters.get("last") or "24h"), SPANS["24h"])

    def text(name: str) -> str:
        value = filters.get(name)
        return value.strip()[:128] if isinstance(value, str) else ""

    outcome = text("outcome")
    return AuditQuery(since=None if span is None else now - span, actor=text("actor").lower(), action=text("action"),
                      outcome=outcome if outcome in OUTCOMES else "")  # fmt: skip


def export_href(filters: Mapping[str, object]) -> str:
    """The CSV export of what the page shows (all matching rows, not only the first page)."""
    kept = {k: v for k, v in filters.items() if isinstance(v, str) and v}
    return "/audit.csv" + (f"?{urlencode(kept)}" if kept else "")


def entries_table(rows: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    if not rows:
        return html.P(_("Nothing recorded matches."), className="muted")
    # Actions, targets and details are the trail's machine words (the filter takes them as typed): code, not prose.
    cells = [[when(r["at"], timezone), r["actor"], role_name(r["role"]) if r["role"] else "", html.Code(r["action"]),
              html.Code(r["target"]), term("outcome", r["outcome"]), term("address", r["address"]),
              html.Code(json.dumps(r["details"], ensure_ascii=False, sort_keys=True, default=str))
              if r["details"] else ""]
             for r in rows]  # fmt: skip
    return data_table([_("when"), _("who"), _("role"), _("action"), _("target"), _("outcome"), _("address"),
                       _("details")], cells,
                      [f"audit-{r['outcome']}" for r in rows], "audit-entries")  # fmt: skip


def count_line(shown: int) -> str:
    if shown >= PAGE_LIMIT:
        return _("{count} entries (the newest {limit}; export for all)").format(
            count=current.number(shown), limit=current.number(PAGE_LIMIT))
    return _("{count} entries").format(count=current.number(shown))


def audit_layout() -> html.Div:
    """Filters over the entries table."""
    last = dcc.Dropdown(id=ids.AUDIT_LAST, value="24h", clearable=False,
                        options=[{"label": _("last {span}").format(span=_(LABELS[k])) if k != "all" else _("all time"),
                                  "value": k} for k in SPANS])  # fmt: skip
    outcome = dcc.Dropdown(id=ids.AUDIT_OUTCOME, options=[{"label": term("outcome", o), "value": o} for o in OUTCOMES],
                           placeholder=_("any outcome"))
    return html.Div([
        html.H1(_("Audit trail")),
        html.P(_("Append-only: sign-ins and failures, every alert action and silence, account and display-token "
                 "changes, refused requests; who, when, from which address."), className="muted"),
        html.Div([
            html.Div([html.Label(_("period"), htmlFor=ids.AUDIT_LAST), last], className="form-field"),
            html.Div([html.Label(_("user"), htmlFor=ids.AUDIT_ACTOR),
                      dcc.Input(id=ids.AUDIT_ACTOR, debounce=True, maxLength=128)], className="form-field"),
            html.Div([html.Label(_("action starts with"), htmlFor=ids.AUDIT_ACTION),
                      dcc.Input(id=ids.AUDIT_ACTION, debounce=True, maxLength=64, placeholder="alert.")],
                     className="form-field"),
            html.Div([html.Label(_("outcome"), htmlFor=ids.AUDIT_OUTCOME), outcome], className="form-field"),
            html.A(_("Export CSV"), id=ids.AUDIT_EXPORT, href="/audit.csv", className="btn"),
        ], className="admin-form"),
        html.P(id=ids.AUDIT_COUNT, className="muted"),
        html.Div(id=ids.AUDIT_TABLE),
    ], className="audit-page")  # fmt: skip
