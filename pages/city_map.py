"""Every sensor on the city map, coloured by status, with complaint density per district."""

import dash

from layouts.city_map import map_layout

dash.register_page(__name__, path="/map", name="Map", title="IOC · City map", order=10)


def layout(**_query: str):
    return map_layout()
