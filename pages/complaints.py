"""The quick-response platform: complaint volume, districts, SLA, satisfaction and the open queue."""

import dash

from auth.roles import Permission
from auth.web import current_principal
from i18n.current import N_, page_title
from layouts.complaints import complaints_layout

dash.register_page(__name__, path="/complaints", name=N_("Complaints"), title=page_title(N_("Complaints")), order=20)


def layout(**_query: str):
    principal = current_principal()
    return complaints_layout(with_text=principal is not None and principal.may(Permission.READ_COMPLAINT_TEXT))
