"""The quick-response platform: complaint volume, districts, SLA, satisfaction and the open queue."""

import dash

from layouts.complaints import complaints_layout

dash.register_page(__name__, path="/complaints", name="Complaints", title="IOC · Complaints", order=20)


def layout(**_query: str):
    return complaints_layout()
