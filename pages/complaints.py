"""The quick-response platform: complaint volume, districts, SLA, satisfaction and the open queue."""

import dash

from auth.roles import Permission
from auth.web import current_principal
from layouts.complaints import complaints_layout

dash.register_page(__name__, path="/complaints", name="Complaints", title="IOC · Complaints", order=20)


def layout(**_query: str):
    principal = current_principal()
    return complaints_layout(with_text=principal is not None and principal.may(Permission.READ_COMPLAINT_TEXT))
