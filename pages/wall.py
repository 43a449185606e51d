"""Wall display: full screen, rotating views; `?playlist=overview,map&interval=20` overrides the settings."""

import dash

from layouts.wall import wall_layout

dash.register_page(__name__, path="/wall", name="Wall", title="IOC · Wall", order=100)


def layout(**query: str):
    return wall_layout(query)
