"""The small live sensor map of the overview and the wall: district outlines, a dot per sensor by status.

No basemap unless ``IOC_MAP_TILE_URL`` is set (the tile layer is added by the live callbacks), so a wall works
offline and shows no third-party imagery by default. Sensors travel as geobuf, like on the city map page, and
only when the map's part of the snapshot changed (a status flipped, a sensor appeared).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dash_leaflet as dl

from layouts import ids
from layouts.city_map import STATUS_COLOURS, STATUSES, alert_layer, sensor_features, to_geobuf

CITY_CENTER = [22.655, 114.19]  # middle of Shenzhen's extent (lat, lon)
DISTRICTS_URL = "/geo/districts.geojson"
OUTLINE_STYLE = {"color": "#5b6b7b", "weight": 1.5, "fill": True, "fillColor": "#1c2630", "fillOpacity": 0.6}
JS = "ioc.live."


def sensor_layer_data(sensors: Iterable[Mapping]) -> str:
    """The sensor layer's ``data``: geobuf of a point per sensor with its status code."""
    return to_geobuf(sensor_features(sensors))


def live_map(view: str, zoom: float = 9.75, dot_radius: float = 3.5) -> dl.Map:
    """A fixed map of the whole city for ``view``; ``zoom`` fits the city to the map's size on that view.

    Sensors are filled by the live callback. (The initial view is centre and zoom, not ``bounds``: dash-leaflet
    1.1 compares ``bounds`` as a Leaflet object and a plain list makes it throw.)
    """
    return dl.Map(
        id={"type": ids.LIVE_MAP, "view": view}, center=CITY_CENTER, zoom=zoom, zoomSnap=0.25, preferCanvas=True,
        attributionControl=False, zoomControl=False, scrollWheelZoom=False, className="live-map",
        children=[
            dl.LayerGroup(id={"type": ids.LIVE_TILES, "view": view}),
            dl.GeoJSON(url=DISTRICTS_URL, style=OUTLINE_STYLE, interactive=False),
            dl.GeoJSON(id={"type": ids.LIVE_SENSORS, "view": view}, format="geobuf",
                       pointToLayer={"variable": JS + "sensorPoint"},
                       hideout={"colours": [STATUS_COLOURS[s] for s in STATUSES], "radius": dot_radius}),
            alert_layer({"type": ids.LIVE_ALERT_MARKERS, "view": view}, radius=dot_radius * 2.5),
        ],
    )  # fmt: skip
