"""The audit trail: who did what, when, from where; filter and export as CSV (admins only)."""

import dash

from auth.roles import Permission
from i18n.current import N_, page_title
from layouts.audit import audit_layout

dash.register_page(__name__, path="/audit", name=N_("Audit"), title=page_title(N_("Audit")), order=96,
                   permission=Permission.READ_AUDIT)  # fmt: skip


def layout(**_query: str):
    return audit_layout()
