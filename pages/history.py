"""History: any metric by district or by device over a chosen range, with CSV export."""

import dash

from layouts.history import history_layout

dash.register_page(__name__, path="/history", name="History", title="IOC · History", order=40)


def layout(**_query: str):
    return history_layout()
