"""Incidents: alerts and complaints grouped by place and time, each with its timeline and officers' actions."""

import dash

from auth.roles import Permission
from auth.web import current_principal
from i18n.current import N_, page_title
from layouts.incidents import incidents_layout

dash.register_page(__name__, path="/incidents", name=N_("Incidents"), title=page_title(N_("Incidents")), order=6)


def layout(incident: str | None = None, **_query: str):
    digits = isinstance(incident, str) and incident.isascii() and incident.isdigit() and len(incident) < 19
    return incidents_layout(int(incident) if digits else None,
                            can_act=current_principal().may(Permission.ACT_ON_INCIDENTS))  # fmt: skip
