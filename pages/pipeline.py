"""Ingest pipeline health: per stream, what is waiting, in flight, stored and refused; the dead letters."""

import dash

from auth.roles import Permission
from auth.web import current_principal
from i18n.current import N_, page_title
from layouts.pipeline import pipeline_layout

dash.register_page(__name__, path="/pipeline", name=N_("Pipeline"), title=page_title(N_("Pipeline")), order=90)


def layout(**_query: str):
    principal = current_principal()
    return pipeline_layout(can_replay=principal is not None and principal.may(Permission.REPLAY_DEAD_LETTERS))
