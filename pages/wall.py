"""Wall display: full screen, rotating views; `?playlist=overview,map&interval=20` overrides the settings
(for a signed-in person; a display token brings its own playlist)."""

import dash

from auth.roles import Permission
from auth.web import current_principal
from i18n.current import N_, page_title
from layouts.wall import wall_layout

dash.register_page(__name__, path="/wall", name=N_("Wall"), title=page_title(N_("Wall")), order=100,
                   permission=Permission.WATCH_WALL)  # fmt: skip


def layout(**query: str):
    principal = current_principal()
    # A display token's binding decides the playlist (callbacks.wall); the address bar has no say on it.
    return wall_layout({} if principal.wall else query)
