"""Administration: accounts and roles, wall display tokens, webhook receivers (admins only)."""

import dash

from api.scopes import SCOPES
from auth.roles import Permission
from i18n.current import N_, page_title
from layouts.admin import admin_layout
from layouts.api_keys import api_keys_section
from layouts.wall import VIEWS

dash.register_page(__name__, path="/admin", name=N_("Admin"), title=page_title(N_("Admin")), order=95,
                   permission=Permission.MANAGE_USERS)  # fmt: skip


def layout(**_query: str):
    return admin_layout(VIEWS, default_interval_s=30, api_keys=api_keys_section(SCOPES))
