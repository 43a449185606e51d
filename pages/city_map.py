"""Every sensor on the city map, coloured by status, with complaint density per district."""

import logging

import dash
import flask

from callbacks.city_map import FIRST_VIEW
from i18n.current import N_, page_title
from layouts.city_map import map_layout

dash.register_page(__name__, path="/map", name=N_("Map"), title=page_title(N_("City map")), order=10)
log = logging.getLogger(__name__)


def layout(**_query: str):
    first_view = flask.current_app.extensions.get(FIRST_VIEW) if flask.has_app_context() else None
    try:
        sensors = first_view() if first_view else None
    except Exception:  # the page still loads: the map asks for its view as soon as it has fitted the city
        log.exception("the map's first view could not be made; the page goes without it")
        sensors = None
    return map_layout(sensors)
