"""The alert console (/alerts): pure builders of the open-alerts grid, an alert's details, history and
deliveries, the silences panel and the dead letters. Each takes rows as the store returns them; none fetches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import dash_ag_grid as dag
from dash import dcc, html

from alerts.commands import AlertAction, Done
from i18n import current
from i18n.current import N_, _
from i18n.grid import grid_locale
from i18n.terms import term
from layouts import ids
from layouts.tables import data_table as _table
from layouts.tables import when

SEVERITIES = ("critical", "warning", "info")
ACTIONS = {AlertAction.ACKNOWLEDGE: N_("Acknowledge"), AlertAction.RESOLVE: N_("Resolve"),
           AlertAction.NOTE: N_("Add note"), AlertAction.ASSIGN: N_("Assign")}  # fmt: skip
REFRESH_MS = 5000
# headerName: msgids, translated when the page is built (``columns``); a row's severity is shown in words of the
# page's language and coloured by its code (``severity_code``).
COLUMNS = [
    {"field": "severity", "headerName": N_("severity"), "width": 110,
     "cellClassRules": {f"sev-cell sev-{s}": f"params.data.severity_code === '{s}'" for s in SEVERITIES}},
    {"field": "rule", "headerName": N_("rule"), "width": 170},
    {"field": "subject", "headerName": N_("subject"), "width": 140},
    {"field": "summary", "headerName": N_("summary"), "flex": 1, "minWidth": 240, "tooltipField": "summary"},
    {"field": "value", "headerName": N_("value"), "width": 90},
    {"field": "fired", "headerName": N_("fired at"), "width": 170},
    {"field": "status", "headerName": N_("status"), "width": 130},
    {"field": "assignee", "headerName": N_("assignee"), "width": 120},
    # the incident's number and title as text; the alert's details link to its timeline
    {"field": "incident", "headerName": N_("incident"), "width": 160, "tooltipField": "incident"},
]  # fmt: skip


def columns() -> list[dict]:
    """The open-alerts grid's columns, headers in the request's language."""
    return [{**column, "headerName": _(column["headerName"])} for column in COLUMNS]


def value_text(value: float | None) -> str:
    """A measured value, short (four significant digits), written the request language's way."""
    return "" if value is None else current.significant(value, 4)


def status_text(alert: Mapping) -> str:
    """An alert's state in words, and whether it is silenced."""
    said = term("alert_state", alert["status"])
    return said + " " + _("(silenced)") if alert.get("silenced") else said


def alert_rows(alerts: Sequence[Mapping], timezone: str) -> list[dict]:
    """Grid rows of the open alerts, in the order given (the store sorts by severity, then newest)."""
    return [{"id": a["id"], "severity": term("severity", a["severity"]), "severity_code": a["severity"],
             "rule": a["rule_id"], "subject": current.district(a["subject"]), "summary": current.alert_summary(a),
             "value": value_text(a["value"]), "fired": when(a["fired_at"], timezone), "status": status_text(a),
             "assignee": a["assignee"] or "", "incident": incident_text(a)}
            for a in alerts]  # fmt: skip


def incident_text(alert: Mapping) -> str:
    """``#12 Water level at wl-0042 …``: the incident the alert belongs to (its title is an alert's summary, text);
    empty when it belongs to none."""
    incident_id = alert.get("incident_id")
    return "" if incident_id is None else f"#{incident_id} {alert.get('incident_title') or ''}".rstrip()


def incident_link(alert: Mapping) -> list | str:
    """The alert's incident as a link to its timeline, with the incident's state; "" when it belongs to none.
    The incidents page asks for the console's own permission (view_dashboards), so whoever reads the alert may
    follow it; acting on the incident there still needs act_on_incidents."""
    if alert.get("incident_id") is None:
        return ""
    link = dcc.Link(incident_text(alert), href=f"/incidents?incident={alert['incident_id']}",
                    className="alerts-incident-link")  # fmt: skip
    return [link, f" ({term('incident_state', alert.get('incident_state'))})"]


def severity_counts(counts: Mapping[str, int]) -> list:
    """``critical 2 · warning 5 · info 0`` with a coloured badge per severity (counts of all open alerts)."""
    return [html.Span([html.Span(term("severity", s), className=f"sev sev-{s}"),
                       f" {current.number(counts.get(s, 0))}"], className="alerts-count")
            for s in SEVERITIES]  # fmt: skip


def page_text(page: int, page_size: int, shown: int, total: int) -> str:
    """Where the grid is in the list: ``Showing 101–200 of 2,345 open alerts`` (the grid holds one page)."""
    if total == 0:
        return _("No open alerts.")
    first = page * page_size + 1
    return _("Showing {first}–{last} of {total} open alerts, most severe then newest first.").format(
        first=current.number(first), last=current.number(first + shown - 1), total=current.number(total)
    )


def pager() -> html.Div:
    """Previous / next page of open alerts, with where we are between them."""
    return html.Div([
        html.Button(_("← Previous"), id=ids.ALERTS_PAGE_PREV, className="btn", disabled=True),
        html.Span(id=ids.ALERTS_PAGE_TEXT, className="alerts-page-text"),
        html.Button(_("Next →"), id=ids.ALERTS_PAGE_NEXT, className="btn", disabled=True),
    ], className="alerts-pager")  # fmt: skip


def history_table(events: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    """Who did what when on one alert, oldest first (``alert_events``)."""
    if not events:
        return html.P(_("No actions yet."), className="muted")
    rows = [[when(e["at"], timezone), e["actor"], term("alert_action", e["action"]),
             e["note"] or _details(e.get("details"))]
            for e in events]  # fmt: skip
    return _table([_("when"), _("who"), _("what"), _("note")], rows, class_name="alerts-history")


def _details(details: Mapping | None) -> str:
    if details and "assignee" in details:
        return _("assigned to {officer}").format(officer=details["assignee"] or _("nobody"))
    return ""


def deliveries_table(deliveries: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    """The alert's webhook messages and how each fared; dead-lettered ones stand out."""
    if not deliveries:
        return html.P(_("No webhook messages (no receiver configured, silenced, or nothing sent yet)."),
                      className="muted")  # fmt: skip
    rows = [[d["receiver"], d["event_type"], term("delivery", d["status"]), str(d["attempts"]),
             when(d["delivered_at"], timezone),
             "" if d["last_status"] is None else str(d["last_status"]), d["last_error"] or ""]
            for d in deliveries]  # fmt: skip
    css = [f"delivery-{d['status']}" for d in deliveries]
    return _table([_("receiver"), _("event"), _("status"), _("attempts"), _("delivered"), "HTTP", _("last error")],
                  rows, css, "alerts-deliveries")  # fmt: skip


def detail_panel(alert: Mapping | None, events: Sequence[Mapping], deliveries: Sequence[Mapping],
                 timezone: str) -> list:  # fmt: skip
    """The selected alert: its facts, action history and webhook deliveries."""
    if alert is None:
        return [html.P(_("Select an alert to see its details, history and deliveries."), className="muted")]
    facts = [(_("rule"), alert["rule_id"]), (_("subject"), current.district(alert["subject"])),
             (_("status"), status_text(alert)),
             (_("value"), _("{value} (threshold {threshold})").format(value=value_text(alert["value"]),
                                                                      threshold=value_text(alert["threshold"]))),
             (_("fired"), when(alert["fired_at"], timezone)),
             (_("acknowledged"), _by(alert["acknowledged_by"], alert["acknowledged_at"], timezone)),
             (_("resolved"), _by(alert["resolved_by"], alert["resolved_at"], timezone)),
             (_("assignee"), alert["assignee"] or _("nobody")), (_("incident"), incident_link(alert)),
             (_("labels"), ", ".join(f"{k}={v}" for k, v in sorted((alert["labels"] or {}).items())))]  # fmt: skip
    return [
        html.H3([html.Span(term("severity", alert["severity"]), className=f"sev sev-{alert['severity']}"),
                 f" #{alert['id']} {current.alert_summary(alert)}"], className="alerts-detail-title"),
        html.Dl([part for name, text in facts for part in (html.Dt(name), html.Dd(text or "–"))],
                className="alerts-facts"),
        html.H4(_("History")), history_table(events, timezone),
        html.H4(_("Webhook deliveries")), deliveries_table(deliveries, timezone),
    ]  # fmt: skip


def _by(actor: str | None, at: datetime | None, timezone: str) -> str:
    return "" if actor is None else _("{officer} at {time}").format(officer=actor, time=when(at, timezone))


def silences_table(silences: Sequence[Mapping], timezone: str, can_expire: bool = False) -> html.Table | html.P:
    """Silences in force or to come, each with an Expire button for those who may silence."""
    if not silences:
        return html.P(_("No silences."), className="muted")
    rows = [[", ".join(f"{k}={v}" for k, v in sorted(s["matchers"].items())), when(s["starts_at"], timezone),
             when(s["ends_at"], timezone), s["created_by"], s["comment"],
             html.Button(_("Expire"), id={"type": ids.ALERTS_SILENCE_EXPIRE, "silence": s["id"]}, className="btn")
             if can_expire else ""]
            for s in silences]  # fmt: skip
    return _table([_("matchers"), _("from"), _("until"), _("by"), _("comment"), ""], rows, class_name="alerts-silences")


def dead_letters_table(dead: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    """Webhook messages given up on, with the last answer or error."""
    if not dead:
        return html.P(_("No dead-lettered webhook deliveries."), className="muted")
    rows = [[_about(d), d["receiver"], d["event_type"], str(d["attempts"]), when(d["created_at"], timezone),
             "" if d["last_status"] is None else str(d["last_status"]), d["last_error"] or ""]
            for d in dead]  # fmt: skip
    return _table([_("alert"), _("receiver"), _("event"), _("attempts"), _("queued"), "HTTP", _("last error")], rows,
                  ["delivery-dead"] * len(rows), "alerts-dead")  # fmt: skip


# An anomaly rule's condition by direction: how many robust spreads from the usual value for the hour of day.
ANOMALY_SAID = {
    "above": N_("mean {metric} over {threshold} spreads above usual for the hour ({days}-day median)"),
    "below": N_("mean {metric} over {threshold} spreads below usual for the hour ({days}-day median)"),
    "both": N_("mean {metric} over {threshold} spreads from usual for the hour ({days}-day median)"),
}


def _about(message: Mapping) -> str:
    """What a webhook message is about: an alert (``#42``) or an incident."""
    if message.get("alert_id") is None and message.get("incident_id") is not None:
        return _("incident #{id}").format(id=message["incident_id"])
    return f"#{message['alert_id']}"


def describe_rule(rule) -> str:
    """A rule's condition in a line an officer reads at a glance."""
    within = " " + _("over {duration}").format(duration=_duration(rule.window_s))
    hold = " " + _("for {duration}").format(duration=_duration(rule.for_s)) if rule.for_s else ""
    metric = term("metric", rule.metric) if rule.metric else ""
    if getattr(rule, "band", None):  # a status band's device alert: the same level that colours the map
        return (
            _("latest {metric} {op} {threshold} ({severity} in band {band})").format(
                metric=metric,
                op=rule.op,
                threshold=f"{rule.threshold:g}",
                severity=term("severity", rule.severity),
                band=rule.band,
            )
            + hold
        )
    if rule.type == "threshold":
        return f"{term('reduce', rule.reduce)} {metric} {rule.op} {rule.threshold:g}{within}{hold}"
    if rule.type == "rate":
        said = (
            _("{metric} rises more than {threshold}")
            if rule.direction == "rising"
            else _("{metric} falls more than {threshold}")
        )
        return said.format(metric=metric, threshold=f"{rule.threshold:g}") + within
    if rule.type == "no_data":
        return _("nothing for {duration}").format(duration=_duration(rule.silent_for_s))
    if rule.type == "anomaly":
        return (
            _(ANOMALY_SAID[rule.direction]).format(
                metric=metric, threshold=f"{rule.threshold:g}", days=rule.baseline_days
            )
            + within
            + hold
        )
    return f"{term('function', rule.function)} {rule.op} {rule.threshold:g}{within}{hold}"


def rules_table(rules: Sequence) -> html.Table:
    """The rules in force (config/alert_rules.toml), one line each."""
    rows = [[r.id, html.Span(term("severity", r.severity), className=f"sev sev-{r.severity}"),
             term("rule_type", "band" if r.band else r.type),
             _("{source} per {subject}").format(source=term("source", r.source),
                                                subject=term("rule_subject", r.subject)),
             describe_rule(r), ", ".join(f"{k}={v}" for k, v in sorted(r.labels.items()))] for r in rules]  # fmt: skip
    return _table(
        [_("rule"), _("severity"), _("type"), _("watches"), _("fires when"), _("labels")],
        rows,
        class_name="alerts-rules",
    )


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return current.unit(seconds / 3600, "h")
    if seconds >= 60 and seconds % 60 == 0:
        return current.unit(seconds / 60, "min")
    return current.unit(seconds, "s")


def done_message(done: Done) -> str:
    """What the officer is told after an action went through."""
    if done.action is AlertAction.SILENCE:
        return _("Silence #{id} created ({officer}).").format(id=done.silence_id, officer=done.actor)
    if done.action is AlertAction.EXPIRE_SILENCE:
        return _("Silence #{id} expired ({officer}).").format(id=done.silence_id, officer=done.actor)
    alert = done.alert or {}
    if done.action is AlertAction.ASSIGN:
        return _("Alert #{id} assigned to {assignee} ({officer}).").format(
            id=alert.get("id"), assignee=alert.get("assignee") or _("nobody"), officer=done.actor
        )
    if done.action is AlertAction.NOTE:
        return _("Note added to alert #{id} ({officer}).").format(id=alert.get("id"), officer=done.actor)
    return _("{action}: alert #{id} is {status} ({officer}).").format(
        action=_(ACTIONS[done.action]),
        id=alert.get("id"),
        status=term("alert_state", alert.get("status")),
        officer=done.actor,
    )


def officer_options(officers: Sequence[Mapping]) -> list[dict]:
    """The assignee list: enabled operators and admins, by user name (full name beside it)."""
    return [{"label": f"{o['username']} ({o['full_name']})" if o["full_name"] else o["username"],
             "value": o["username"]} for o in officers]  # fmt: skip


def _actions() -> html.Div:
    return html.Div([
        html.Div([html.Button(_(label), id={"type": ids.ALERTS_ACTION, "action": action}, className="btn")
                  for action, label in ACTIONS.items()], className="alerts-buttons"),
        dcc.Input(id=ids.ALERTS_NOTE, placeholder=_("note (for add note; optional on acknowledge / resolve)"),
                  className="alerts-note"),
        dcc.Dropdown(id=ids.ALERTS_ASSIGNEE, options=[], placeholder=_("assign to (empty: nobody)"),
                     className="alerts-assignee"),
        html.P(id=ids.ALERTS_MESSAGE, className="alerts-message"),
    ], className="alerts-actions")  # fmt: skip


def _silence_form() -> html.Div:
    return html.Div([
        dcc.Input(id=ids.ALERTS_SILENCE_MATCHERS, placeholder="team=water, subject=wl-0042", className="wide"),
        html.Label([_("starts in (min)") + " ",
                    dcc.Input(id=ids.ALERTS_SILENCE_STARTS_MIN, type="number", value=0, min=0)]),
        html.Label([_("lasts (h)") + " ", dcc.Input(id=ids.ALERTS_SILENCE_HOURS, type="number", value=2, min=0.1)]),
        dcc.Input(id=ids.ALERTS_SILENCE_COMMENT, placeholder=_("why (maintenance, known issue…)"), className="wide"),
        html.Button(_("Create silence"), id=ids.ALERTS_SILENCE_CREATE, className="btn"),
        html.P(id=ids.ALERTS_SILENCE_MESSAGE, className="alerts-message"),
    ], className="alerts-silence-form")  # fmt: skip


def _read_only(what: str) -> html.P:
    return html.P(what, className="muted alerts-read-only")


def alerts_layout(selected: int | None = None, can_act: bool = False, can_silence: bool = False) -> html.Div:
    """Open alerts beside the selected one (with actions for those who may act), then silences and dead letters."""
    grid = dag.AgGrid(id=ids.ALERTS_GRID, columnDefs=columns(), rowData=[], getRowId="params.data.id",
                      defaultColDef={"sortable": True, "resizable": True, "filter": True},
                      # every column rendered: on a phone a virtualised header row is left empty (axe)
                      dashGridOptions={"rowSelection": {"mode": "singleRow", "enableClickSelection": True,
                                                        "checkboxes": False},
                                       "suppressColumnVirtualisation": True, "localeText": grid_locale()},
                      style={"height": "60vh"})  # fmt: skip
    return html.Div([
        html.Div([html.H1(_("Alerts")), html.Div(id=ids.ALERTS_COUNTS, className="alerts-counts")],
                 className="page-head"),
        html.Div([
            html.Section([html.H2(_("Open alerts")), pager(), grid], className="panel alerts-open"),
            html.Section([_actions() if can_act else _read_only(_("Read-only: your role may not act on alerts.")),
                          html.Div(id=ids.ALERTS_DETAIL)], className="panel alerts-side"),
        ], className="alerts-row"),
        html.Section([html.H2(_("Silences")),
                      _silence_form() if can_silence else _read_only(_("Read-only: your role may not create "
                                                                       "silences.")),
                      html.Div(id=ids.ALERTS_SILENCES)], className="panel"),
        html.Section([html.H2(_("Dead-lettered webhook deliveries")), html.Div(id=ids.ALERTS_DEAD)],
                     className="panel"),
        html.Section([html.H2(_("Rules")), html.Div(id=ids.ALERTS_RULES)], className="panel"),
        dcc.Store(id=ids.ALERTS_SELECTED, data=selected),
        dcc.Store(id=ids.ALERTS_PAGE, data=0),
        dcc.Store(id=ids.ALERTS_CHANGED, data=0),
        dcc.Interval(id=ids.ALERTS_TICK, interval=REFRESH_MS),
    ], className="alerts-console")  # fmt: skip
