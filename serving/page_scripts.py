"""Which component scripts a page's HTML loads (pure).

Dash puts every registered component library's entry script on every page. dash-ag-grid's is 1.3 MB (half of all
the JavaScript of a page) and only the alert console and the complaints page show a grid. On the others its tag
becomes a prefetch hint (fetched at low priority, not run) and ``assets/ioc_grids.js`` runs it once the page is
idle, so that moving to a grid page inside the app finds it; until then such a move is a full page load, whose
HTML brings it.
"""

from __future__ import annotations

import html
import re

# The pages that render an AgGrid (layouts/alerts.py, layouts/complaints.py): they load its script up front.
GRID_PAGES = ("/alerts", "/complaints")
GRID_SCRIPT_ID = "ioc-grid-script"
_GRID_SCRIPT = re.compile(r'<script src="(?P<src>[^"]*/dash_ag_grid/dash_ag_grid[^"]*\.js[^"]*)"></script>')


def needs_grid(path: str) -> bool:
    """Whether the page at ``path`` shows a grid from its first render."""
    return any(path == page or path.startswith(page + "/") for page in GRID_PAGES)


def scripts_for(path: str, scripts_html: str) -> str:
    """The page's script tags: dash-ag-grid's deferred unless ``path`` needs it: a prefetch the loader finds by its
    id, carrying the grid pages, so this module stays their one list. No inline script: the Content-Security-Policy
    allows only Dash's own (auth/headers.py)."""
    if needs_grid(path):
        return scripts_html
    return _GRID_SCRIPT.sub(
        lambda found: f'<link rel="prefetch" as="script" id="{GRID_SCRIPT_ID}" href="{html.escape(found["src"])}"'
        f' data-grid-pages="{" ".join(GRID_PAGES)}">',
        scripts_html, count=1,
    )  # fmt: skip
