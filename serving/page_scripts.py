"""Which component scripts a page's HTML loads (pure).

Dash puts every registered component library's entry script on every page. Two are big and used by a few pages:
dash-ag-grid's (1.3 MB, half of all the JavaScript of a page) by the alert console and the complaints page,
dash-leaflet's (0.3 MB, 0.17 s of an empty page's cold start here, bench/dash_floor.py) by the overview, the map
and the wall. On the other pages each tag becomes a prefetch hint (fetched at low priority, not run) and
``assets/ioc_deferred.js`` runs the script once the page is idle, so that moving to a page that needs it inside the
app finds it; until then such a move is a full page load, whose HTML brings it.

A component's parts that are not in its entry script (dcc's dropdown, dash-leaflet's GeoJSON layer) arrive as
webpack chunks, fetched only when the page's layout first renders one, after Dash's start-up, one after another.
The pages that render them at once load them with their other scripts: a webpack chunk installs itself into its
library's chunk list whichever runs first, so when the layout renders the component its code is already there,
with no script to fetch and run between two render passes (as a preload hint it was fetched early but still run
only then).

Dash's renderer asks for the page's layout (``/_dash-layout``, which brings the first page inside it:
``serving/first_page.py``) and its callbacks (``/_dash-dependencies``) only once all the scripts have run. The HTML
announces both as preloads, so the server builds the layout while the browser is still parsing scripts, and the
renderer's own requests find the answers there (same URL, same credentials mode: the browser hands over the
preloaded answer instead of asking again).

Two of the scripts Dash puts on every page do nothing for ours, and are left out of every page:

* ``@babel/polyfill`` (core-js 2 and regenerator): 99 kB of script, run before anything else, that fills in what a
  browser of 2017 lacked. Every browser that can draw these pages (CSS grid, ``conic-gradient`` in the map's
  clusters, ES2017 in our assets) has all of it natively; what the bundles still use from it is the global
  ``regeneratorRuntime`` of Dash's lazy-component loader, which ``assets/regenerator_runtime.js`` (the
  ``regenerator-runtime`` npm package's own file, 7 kB compressed) defines.
* ``dash_table``'s loader: ``import dash`` registers DataTable on every app; no page of ours renders one
  (tests/unit/test_page_scripts.py fails if one starts to), so its script only cost parsing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import NamedTuple


class Deferred(NamedTuple):
    """A component library whose script only ``pages`` (a path, or its subpaths) load up front."""

    library: str  # its folder under /_dash-component-suites/, its script's name and its global in the browser
    pages: tuple[str, ...]

    def needed_at(self, path: str) -> bool:
        """Whether the page at ``path`` renders the library from its first layout ("/" is only itself)."""
        return any(path == page or (page != "/" and path.startswith(page + "/")) for page in self.pages)


DEFERRED = (
    Deferred("dash_ag_grid", ("/alerts", "/complaints")),  # layouts/alerts.py, layouts/complaints.py
    Deferred("dash_leaflet", ("/", "/map", "/wall")),  # layouts/overview.py, layouts/city_map.py, layouts/wall.py
)
DEFERRED_CLASS = "ioc-deferred-script"  # what assets/ioc_deferred.js looks for
# The webpack chunks each page renders from its first layout, relative to /_dash-component-suites/ (what the
# browser fetched in tests/e2e/test_page_scripts.py).
PAGE_CHUNKS: dict[str, tuple[str, ...]] = {
    "/map": ("dash/dcc/async-dropdown.js", "dash_leaflet/async-GeoJSON.js"),
    "/": ("dash_leaflet/async-GeoJSON.js",),
    "/wall": ("dash_leaflet/async-GeoJSON.js",),
}
_SUITES = re.compile(r'<script src="(?P<base>[^"]*/_dash-component-suites/)')
# Script tags that no page needs (see above); matched on the file name, under any prefix.
_UNUSED_SCRIPTS = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/(?:deps/polyfill@|dash_table/bundle\.)[^"]*"></script>\s*'
)
_LIBRARY_SCRIPT = '<script src="(?P<src>[^"]*/_dash-component-suites/{0}/{0}[^"/]*\\.js[^"]*)"></script>'


def scripts_for(path: str, scripts_html: str) -> str:
    """The page's script tags: the chunks it renders at once; no polyfill nor DataTable loader; each deferred
    library's script unless ``path`` needs it, in its place a prefetch hint the loader finds by its class, carrying
    the library's name and its pages, so this module stays their one list. No inline script: the
    Content-Security-Policy allows only Dash's own (auth/headers.py)."""
    scripts_html = _UNUSED_SCRIPTS.sub("", scripts_html) + _chunk_scripts(path, scripts_html)
    for deferred in DEFERRED:
        if not deferred.needed_at(path):
            scripts_html = re.sub(_LIBRARY_SCRIPT.format(re.escape(deferred.library)),
                                  lambda found, d=deferred: _hint(d, found["src"]), scripts_html, count=1)  # fmt: skip
    return scripts_html


def _hint(deferred: Deferred, src: str) -> str:
    return (f'<link rel="prefetch" as="script" class="{DEFERRED_CLASS}" href="{html.escape(src)}"'
            f' data-library="{deferred.library}" data-pages="{" ".join(deferred.pages)}">')  # fmt: skip


def _chunk_scripts(path: str, scripts_html: str) -> str:
    """Script tags for the chunks of ``path``, under the same prefix as Dash's own scripts."""
    suites = _SUITES.search(scripts_html)
    if suites is None:
        return ""
    return "".join(
        f'\n<script src="{html.escape(suites["base"] + chunk)}"></script>' for chunk in PAGE_CHUNKS.get(path, ())
    )


def data_preloads(dash_path: Callable[[str], str]) -> str:
    """Preload hints for the layout and the callbacks Dash's renderer fetches at start; ``dash_path`` puts a path
    under the app's prefix (``Dash.get_relative_path``). ``crossorigin`` makes the hint's request a CORS-mode one
    with same-origin credentials, as the renderer's ``fetch`` is: otherwise the browser would not hand it over."""
    return "".join(f'<link rel="preload" as="fetch" crossorigin href="{html.escape(dash_path(path))}">\n'
                   for path in ("/_dash-layout", "/_dash-dependencies"))  # fmt: skip
