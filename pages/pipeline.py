"""Ingest pipeline health: per stream, what is waiting, in flight, stored and refused."""

import dash

from layouts.pipeline import pipeline_layout

dash.register_page(__name__, path="/pipeline", name="Pipeline", title="IOC · Pipeline", order=90)


def layout(**_query: str):
    return pipeline_layout()
