"""The audit trail page and its CSV export (``/audit.csv``, the same filters as the page)."""

from __future__ import annotations

from datetime import UTC, datetime

import flask
from dash import Dash, Input, Output

from auth import audit
from auth.roles import Permission
from auth.web import current_principal, requires
from layouts import ids
from layouts.audit import audit_query, count_line, entries_table, export_href


def register(app: Dash, services) -> None:
    tz = services.settings.display_zone

    @app.callback(Output(ids.AUDIT_TABLE, "children"), Output(ids.AUDIT_COUNT, "children"),
                  Output(ids.AUDIT_EXPORT, "href"), Input(ids.AUDIT_LAST, "value"), Input(ids.AUDIT_ACTOR, "value"),
                  Input(ids.AUDIT_ACTION, "value"), Input(ids.AUDIT_OUTCOME, "value"))  # fmt: skip
    @requires(Permission.READ_AUDIT)
    def entries(last: object, actor: object, action: object, outcome: object):
        filters = {"last": last, "actor": actor, "action": action, "outcome": outcome}
        with services.pool.connection() as conn:
            rows = audit.entries(conn, audit_query(filters, datetime.now(UTC)))
        return entries_table(rows, tz), count_line(len(rows)), export_href(filters)

    @app.server.get("/audit.csv")
    def export():  # the gate has checked READ_AUDIT (auth.web.ROUTE_PERMISSIONS)
        query = audit_query(flask.request.args, datetime.now(UTC))
        with services.pool.connection() as conn:
            rows = audit.entries(conn, query, limit=audit.EXPORT_LIMIT)
            audit.record(conn, current_principal(), "audit.export", "audit_log", "ok", {"rows": len(rows)})
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        return flask.Response(audit.csv_text(rows), mimetype="text/csv",
                              headers={"Content-Disposition": f'attachment; filename="ioc-audit-{stamp}.csv"',
                                       "Cache-Control": "no-store"})  # fmt: skip
