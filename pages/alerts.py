"""The alert console: open alerts by severity, an alert's history and deliveries, actions, silences."""

import dash

from layouts.alerts import alerts_layout

dash.register_page(__name__, path="/alerts", name="Alerts", title="IOC · Alerts", order=5)


def layout(alert: str | None = None, **_query: str):
    return alerts_layout(int(alert) if alert and alert.isdigit() else None)
