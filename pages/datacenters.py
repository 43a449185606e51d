"""Data centres: energy-weighted PUE against the 1.3 target, power and inlet temperatures per site."""

import dash

from i18n.current import N_, page_title
from layouts.datacenters import datacenters_layout

dash.register_page(
    __name__, path="/datacenters", name=N_("Data centres"), title=page_title(N_("Data centres")), order=30
)


def layout(**_query: str):
    return datacenters_layout()
