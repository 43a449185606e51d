"""Pages leave out the scripts they do not run (serving/page_scripts.py)."""

from pathlib import Path

from serving.page_scripts import DEFERRED_CLASS, data_preloads, scripts_for

REPO = Path(__file__).resolve().parents[2]

SCRIPTS = (
    '<script src="/_dash-component-suites/dash/dcc/dash_core_components.v4_4_1m1.js"></script>\n'
    '<script src="/_dash-component-suites/dash_ag_grid/dash_ag_grid.v35_3_0m1.min.js"></script>\n'
    '<script src="/_dash-component-suites/dash_leaflet/dash_leaflet.v1_1_3m1.js"></script>'
)
GRID_HINT = (f'<link rel="prefetch" as="script" class="{DEFERRED_CLASS}" '
             'href="/_dash-component-suites/dash_ag_grid/dash_ag_grid.v35_3_0m1.min.js" '
             'data-library="dash_ag_grid" data-pages="/alerts /complaints">')  # fmt: skip
LEAFLET_HINT = (f'<link rel="prefetch" as="script" class="{DEFERRED_CLASS}" '
                'href="/_dash-component-suites/dash_leaflet/dash_leaflet.v1_1_3m1.js" '
                'data-library="dash_leaflet" data-pages="/ /map /wall">')  # fmt: skip


def test_a_map_page_gets_a_prefetch_hint_instead_of_the_grid_script():
    html = scripts_for("/map", SCRIPTS)
    assert 'dash_ag_grid.v35_3_0m1.min.js"></script>' not in html and GRID_HINT in html
    assert '<script src="/_dash-component-suites/dash_leaflet/dash_leaflet.v1_1_3m1.js"></script>' in html
    assert "dash_core_components" in html  # the others untouched


def test_a_grid_page_gets_a_prefetch_hint_instead_of_the_map_script():
    for path in ("/alerts", "/complaints", "/alerts/42"):
        html = scripts_for(path, SCRIPTS)
        assert '<script src="/_dash-component-suites/dash_ag_grid/dash_ag_grid.v35_3_0m1.min.js"></script>' in html
        assert LEAFLET_HINT in html and 'dash_leaflet.v1_1_3m1.js"></script>' not in html


def test_a_page_with_neither_defers_both():
    html = scripts_for("/history", SCRIPTS)
    assert GRID_HINT in html and LEAFLET_HINT in html and "dash_core_components" in html


def test_the_overview_is_only_itself_and_a_page_that_only_starts_like_another_is_not_it():
    assert LEAFLET_HINT not in scripts_for("/", SCRIPTS)
    assert LEAFLET_HINT in scripts_for("/pipeline", SCRIPTS)  # not a subpath of "/"
    assert GRID_HINT in scripts_for("/alertsx", SCRIPTS)
    assert LEAFLET_HINT not in scripts_for("/wall/lobby", SCRIPTS)


def test_a_page_loads_the_chunks_it_renders_at_once_under_dashs_own_prefix():
    prefixed = SCRIPTS.replace('src="/_dash', 'src="/city/_dash')
    html = scripts_for("/map", prefixed)
    assert html.index("async-GeoJSON") > html.index("dash_leaflet.v1_1_3m1.js")  # after the libraries' own scripts
    assert '<script src="/city/_dash-component-suites/dash_leaflet/async-GeoJSON.js"></script>' in html
    assert '<script src="/city/_dash-component-suites/dash/dcc/async-dropdown.js"></script>' in html
    assert "async-" not in scripts_for("/pipeline", SCRIPTS)


def test_the_layout_and_the_callbacks_are_preloaded_under_the_apps_prefix():
    html = data_preloads(lambda path: "/city" + path)
    assert '<link rel="preload" as="fetch" crossorigin href="/city/_dash-layout">' in html
    assert '<link rel="preload" as="fetch" crossorigin href="/city/_dash-dependencies">' in html


DASH_DEFAULTS = (
    '<script src="/_dash-component-suites/dash/deps/polyfill@7.v4_4_1m1.12.1.min.js"></script>\n'
    '<script src="/_dash-component-suites/dash/deps/react@18.v4_4_1m1.3.1.min.js"></script>\n'
    '<script src="/_dash-component-suites/dash/dash_table/bundle.v7_4_1m1.js"></script>\n'
    '<script src="/_dash-component-suites/dash/html/dash_html_components.v4_4_1m1.min.js"></script>'
)


def test_no_page_loads_the_polyfill_or_the_datatable_loader():
    for path in ("/map", "/alerts", "/", "/city/map"):
        html = scripts_for(path, DASH_DEFAULTS.replace('src="/_dash', 'src="/city/_dash'))
        assert "polyfill@" not in html and "dash_table" not in html
        assert "react@18" in html and "dash_html_components" in html


def test_what_the_polyfill_left_behind_is_served_as_an_asset():
    # Dash's lazy-component loader calls the global regeneratorRuntime the polyfill used to define.
    runtime = (REPO / "assets" / "regenerator_runtime.js").read_text()
    assert "regeneratorRuntime = runtime" in runtime


def test_no_page_renders_a_datatable_whose_loader_is_left_out():
    folders = ("pages", "layouts", "callbacks")
    sources = [REPO / "app.py", *(path for folder in folders for path in (REPO / folder).rglob("*.py"))]
    for source in sources:
        text = source.read_text()
        assert "dash_table" not in text and "DataTable" not in text, source
