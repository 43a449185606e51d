"""The incidents page (/incidents): pure builders of the list, one incident's timeline and the officers' actions.

Each takes rows as ``incidents.service`` returns them; none fetches. Everything from outside (a complaint's
description, an alert's summary, an officer's note) is put in as text, which Dash never renders as HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dash import dcc, html

from i18n import current
from i18n.current import N_, _
from i18n.terms import term
from incidents.timeline import TimelineItem
from layouts import ids
from layouts.tables import data_table, when

REFRESH_MS = 5000
STATES = ("open", "monitoring", "closed")
# (action, target state, label): what an operator may ask; the server decides whether the state allows it.
ACTIONS = (("take_ownership", "", N_("Take ownership")), ("set_state", "monitoring", N_("Set monitoring")),
           ("set_state", "closed", N_("Close")), ("set_state", "open", N_("Reopen")))  # fmt: skip


def state_badge(state: str) -> html.Span:
    """An incident's state in words, coloured by its code."""
    return html.Span(term("incident_state", state), className=f"incident-state incident-{state}")


def incidents_table(incidents: Sequence[Mapping], timezone: str) -> html.Table | html.P:
    """The list: state, district, title, members, owner, opened, last activity; the number links to the timeline."""
    if not incidents:
        return html.P(_("No incidents."), className="muted")
    rows = [[dcc.Link(f"#{i['id']}", href=f"/incidents?incident={i['id']}", className="incident-link"),
             state_badge(i["state"]), current.district(i["district"]), i["title"], current.number(i["members"]),
             i["owner"] or "–", when(i["opened_at"], timezone), when(i.get("last_activity"), timezone)]
            for i in incidents]  # fmt: skip
    head = [_("incident"), _("state"), _("district"), _("title"), _("members"), _("owner"), _("opened"),
            _("last activity")]  # fmt: skip
    return data_table(head, rows, [f"incident-row-{i['state']}" for i in incidents], "incidents-list")


def entry_text(item: TimelineItem, may_read_complaints: bool) -> str:
    """What one timeline line says beside its time, kind and actor (text, never markup)."""
    d = item.details
    if item.kind == "opened":
        return _("in {district}").format(district=current.district(str(d.get("district") or "")))
    if item.kind.startswith("alert_"):
        said = _("alert #{id}").format(id=item.alert_id)
        if item.kind == "alert_fired":
            value = "" if d.get("value") is None else current.significant(d["value"], 4)
            said += ": " + _("{subject} reads {value}").format(subject=current.district(str(d.get("subject"))),
                                                                value=value)  # fmt: skip
            said += f" ({d.get('summary') or ''})" if d.get("summary") else ""
        return said + (f" · {item.note}" if item.note else "")
    if item.kind.startswith("complaint_"):
        said = _("request {request} ({category})").format(request=item.request_id,
                                                           category=term("category", d.get("category")))  # fmt: skip
        if item.kind == "complaint_opened" and may_read_complaints and d.get("description"):
            said += f": {d['description']}"
        return said
    if item.kind == "state":
        return f"{term('incident_state', d.get('from'))} → {term('incident_state', d.get('to'))}" + (
            f" · {item.note}" if item.note else "")
    if item.kind == "peak_reading":
        value = current.significant(d["value"], 4) + (f" {d['unit']}" if d.get("unit") else "")
        return _("{device}: {metric} peaked at {value}").format(device=d.get("device_id"),
                                                                 metric=term("metric", d.get("metric")), value=value)
    return item.note or ""


def timeline_list(items: Sequence[TimelineItem], timezone: str, may_read_complaints: bool) -> html.Ol | html.P:
    """The timeline, oldest first: readings, alerts, complaints and officers' actions."""
    if not items:
        return html.P(_("Nothing on the timeline yet."), className="muted")
    return html.Ol([
        html.Li([html.Time(when(item.at, timezone), dateTime=item.at.isoformat(), className="incident-when"),
                 html.Span(term("incident_entry", item.kind), className=f"incident-kind kind-{item.kind}"),
                 html.Span(item.actor, className="incident-actor"),  # empty for a reading: the columns stay
                 html.Span(entry_text(item, may_read_complaints), className="incident-text")],
                className="incident-entry")
        for item in items
    ], className="incidents-timeline", id="incidents-timeline")  # fmt: skip


def detail_panel(detail, timezone: str, may_read_complaints: bool) -> list:
    """The selected incident: its facts and timeline (``detail``: ``incidents.service.IncidentDetail`` or None)."""
    if detail is None:
        return [html.P(_("Select an incident to see its timeline."), className="muted")]
    i = detail.incident
    facts = [(_("state"), state_badge(i["state"])), (_("owner"), i["owner"] or _("nobody")),
             (_("district"), current.district(i["district"])), (_("opened"), when(i["opened_at"], timezone)),
             (_("closed"), when(i["closed_at"], timezone) or "–"), (_("members"), current.number(i["members"])),
             (_("open alerts"), current.number(i["open_alerts"]))]  # fmt: skip
    return [
        html.H3(f"#{i['id']} {i['title']}", className="incidents-detail-title"),
        html.Dl([part for name, text in facts for part in (html.Dt(name), html.Dd(text))], className="alerts-facts"),
        html.H4(_("Timeline")),
        timeline_list(detail.items, timezone, may_read_complaints),
    ]  # fmt: skip


def _actions() -> html.Div:
    return html.Div([
        html.Div([html.Button(_(label), id={"type": ids.INCIDENTS_ACTION, "action": action, "state": state},
                              className="btn") for action, state, label in ACTIONS], className="alerts-buttons"),
        dcc.Input(id=ids.INCIDENTS_NOTE, placeholder=_("note"), className="alerts-note"),
        html.Button(_("Add note"), id={"type": ids.INCIDENTS_ACTION, "action": "note", "state": ""}, className="btn"),
        html.P(id=ids.INCIDENTS_MESSAGE, className="alerts-message", role="status"),
    ], className="alerts-actions incidents-actions")  # fmt: skip


def done_message(done) -> str:
    """What the officer is told after an action went through (``incidents.commands.IncidentDone``)."""
    incident = done.incident
    if done.action == "take_ownership":
        return _("You own incident #{id}.").format(id=incident["id"])
    if done.action == "note":
        return _("Note added to incident #{id}.").format(id=incident["id"])
    return _("Incident #{id} is {state}.").format(id=incident["id"], state=term("incident_state", incident["state"]))


def incidents_layout(selected: int | None = None, can_act: bool = False) -> html.Div:
    """The list beside the selected incident's timeline (with actions for those who may act)."""
    side = [_actions() if can_act else html.P(_("Read-only: your role may not act on incidents."),
                                              className="muted alerts-read-only"),
            html.Div(id=ids.INCIDENTS_DETAIL)]  # fmt: skip
    return html.Div([
        html.Div([html.H1(_("Incidents"))], className="page-head"),
        # Stacked, not side by side: a timeline's lines need the page's width more than the list does.
        html.Section([html.H2(_("Incidents, open first")), html.Div(id=ids.INCIDENTS_LIST)], className="panel"),
        html.Section(side, className="panel incidents-side"),
        dcc.Store(id=ids.INCIDENTS_SELECTED, data=selected),
        dcc.Store(id=ids.INCIDENTS_CHANGED, data=0),
        dcc.Interval(id=ids.INCIDENTS_TICK, interval=REFRESH_MS),
    ], className="incidents-page")  # fmt: skip
