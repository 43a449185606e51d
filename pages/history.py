"""History: any metric by district or by device over a chosen range, with CSV export."""

import dash

from i18n.current import N_, page_title
from layouts.history import history_layout

dash.register_page(__name__, path="/history", name=N_("History"), title=page_title(N_("History")), order=40)


def layout(**_query: str):
    return history_layout()
