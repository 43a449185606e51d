"""Data centres: energy-weighted PUE against the 1.3 target, power and inlet temperatures per site."""

import dash

from layouts.datacenters import datacenters_layout

dash.register_page(__name__, path="/datacenters", name="Data centres", title="IOC · Data centres", order=30)


def layout(**_query: str):
    return datacenters_layout()
