"""The alert console: open alerts by severity, an alert's history and deliveries, actions, silences."""

import dash

from auth.roles import Permission
from auth.web import current_principal
from i18n.current import N_, page_title
from layouts.alerts import alerts_layout

dash.register_page(__name__, path="/alerts", name=N_("Alerts"), title=page_title(N_("Alerts")), order=5)


def layout(alert: str | None = None, **_query: str):
    principal = current_principal()
    digits = isinstance(alert, str) and alert.isascii() and alert.isdigit() and len(alert) < 19
    selected = int(alert) if digits else None
    return alerts_layout(selected, can_act=principal.may(Permission.ACT_ON_ALERTS),
                         can_silence=principal.may(Permission.SILENCE_ALERTS))  # fmt: skip
