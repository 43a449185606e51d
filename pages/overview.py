"""Home: the city's KPIs against the same time yesterday, sensors by status, latest alerts, data centres."""

import dash

from i18n.current import N_, page_title
from layouts.overview import overview_layout

dash.register_page(__name__, path="/", name=N_("Overview"), title=page_title(N_("Overview")), order=0)


def layout(**_query: str):
    return overview_layout()
