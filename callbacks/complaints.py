"""The quick-response platform: figures for the chosen range and the live queue of open requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dash import Dash, Input, Output

import bootstrap
from auth.roles import Permission
from auth.web import current_principal, requires
from i18n.current import _, number
from layouts import complaints, ids
from layouts.time_range import step_label, window
from storage.dashboard_queries import QUEUE_LIMIT, bucket_step

SATISFACTION_SPAN = timedelta(days=30)


def register(app: Dash, services) -> None:
    @app.callback(Output(ids.COMPLAINTS_VOLUME, "figure"), Output(ids.COMPLAINTS_DISTRICTS, "figure"),
                  Output(ids.COMPLAINTS_SLA, "figure"), Output(ids.COMPLAINTS_SATISFACTION, "figure"),
                  Input(ids.COMPLAINTS_RANGE, "value"), Input(ids.COMPLAINTS_TICK, "n_intervals"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh_figures(choice: str | None, _n: int | None):
        q, now = services.queries, datetime.now(UTC)
        since, until = window(choice, now)
        geojson = bootstrap.districts_geojson(services.settings)
        kpi = services.settings.city_pack.file.kpi
        return (
            complaints.volume_figure(q.complaint_volume(since, until), step_label(bucket_step(until - since))),
            complaints.district_choropleth(q.complaints_by_district(since, until), geojson),
            complaints.sla_figure(q.sla_by_category(since, until, kpi.sla_hours, kpi.sla_default_hours)),
            complaints.satisfaction_figure(
                q.satisfaction_daily(now - SATISFACTION_SPAN, now, services.settings.city_timezone)),
        )  # fmt: skip

    @app.callback(Output(ids.COMPLAINTS_QUEUE, "rowData"), Output(ids.COMPLAINTS_QUEUE_COUNT, "children"),
                  Input(ids.COMPLAINTS_TICK, "n_intervals"))  # fmt: skip
    @requires(Permission.VIEW_DASHBOARDS)
    def refresh_queue(_n: int | None):
        principal = current_principal()
        with_text = principal is not None and principal.may(Permission.READ_COMPLAINT_TEXT)
        rows = services.queries.open_complaints(with_text=with_text)
        shown = complaints.queue_rows(rows, datetime.now(UTC), services.settings.display_zone,
                                      services.settings.city_pack.file.kpi)
        overdue = sum(r["overdue"] for r in shown)
        return shown, _("{count} open requests (oldest first, at most {limit}) · {overdue} past SLA").format(
            count=number(len(shown)), limit=number(QUEUE_LIMIT), overdue=number(overdue)
        )
