"""The small live sensor map of the overview and the wall: district outlines, the sensors' status clusters.

No basemap unless ``IOC_MAP_TILE_URL`` is set (the tile layer is added by the live callbacks), so a wall works
offline and shows no third-party imagery by default. The map never moves, so it receives the server's clusters
(geo/clusters.py) for its one zoom, as the city map does for its view: a cluster in its worst status's colour with
its count per status, a sensor alone as a dot. They travel only when the map's part of the snapshot changed (a
status flipped, a sensor appeared): a few hundred features at any city size, where every sensor as geobuf was
938 KiB at 20,000 sensors, sent to every wall on every change (docs/BENCHMARKS.md, the soak).
"""

from __future__ import annotations

import math

import dash_leaflet as dl

from layouts import ids
from layouts.city_map import STATUS_COLOURS, STATUSES, alert_layer

CITY_CENTER = [22.655, 114.19]  # Shenzhen's tuned centre (lat, lon); ``live_view`` places any city alike
# The views' zooms (VIEW_ZOOM) were tuned to fit Shenzhen's districts, whose bounds these are
# ([[south, west], [north, east]]); another city is zoomed by how much larger or smaller its extent is.
TUNED_FOR = [[22.399278, 113.746277], [22.864715, 114.623975]]
DISTRICTS_URL = "/geo/districts.geojson"
OUTLINE_STYLE = {"color": "#5b6b7b", "weight": 1.5, "fill": True, "fillColor": "#1c2630", "fillOpacity": 0.6}
JS = "ioc.live."
# The zoom that fits the city to each view's map box (the overview's panel, the wall's map view).
VIEW_ZOOM = {"overview": 9.75, "wall-map": 10.75}


def view_zoom(view: str) -> float:
    """The zoom of ``view``'s map (the overview's for a view not listed)."""
    return VIEW_ZOOM.get(view, VIEW_ZOOM["overview"])


def cluster_zoom(zoom: float) -> float:
    """The zoom whose clusters a live map at ``zoom`` shows: the next whole level, whose cells appear a little under
    the cluster size on screen, so the map shows the city's parts rather than a handful of discs."""
    return float(math.ceil(zoom))


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def live_view(bounds: list[list[float]], tuned_zoom: float) -> dict:
    """The viewport showing the whole city within ``bounds`` on a map whose ``tuned_zoom`` fits Shenzhen's: the
    zoom moved by the ratio of the two extents (Web Mercator), in the maps' quarter steps, and the centre placed
    as Shenzhen's is on its map (so Shenzhen's view is exactly the tuned one)."""
    (south, west), (north, east) = bounds
    (ref_south, ref_west), (ref_north, ref_east) = TUNED_FOR
    height, ref_height = _mercator_y(north) - _mercator_y(south), _mercator_y(ref_north) - _mercator_y(ref_south)
    scale = min((ref_east - ref_west) / max(east - west, 1e-9), ref_height / max(height, 1e-9))
    zoom = math.floor((tuned_zoom + math.log2(scale)) * 4 + 1e-9) / 4  # rounded down: the whole city stays in view
    ref_middle = (_mercator_y(ref_south) + _mercator_y(ref_north)) / 2
    middle = (_mercator_y(south) + _mercator_y(north)) / 2 + (_mercator_y(CITY_CENTER[0]) - ref_middle) / scale
    lon = (west + east) / 2 + (CITY_CENTER[1] - (ref_west + ref_east) / 2) / scale
    lat = math.degrees(2 * math.atan(math.exp(middle)) - math.pi / 2)
    return {"center": [round(lat, 6), round(lon, 6)], "zoom": zoom, "transition": "setView"}


def live_map(view: str, dot_radius: float = 3.5) -> dl.Map:
    """A fixed map of the whole city for ``view``, at its zoom in ``VIEW_ZOOM`` (Shenzhen's: the live callback
    moves it to the city of the settings, ``live_view``).

    Sensors are filled by the live callback. (The initial view is centre and zoom, not ``bounds``: dash-leaflet
    1.1 compares ``bounds`` as a Leaflet object and a plain list makes it throw.)
    """
    return dl.Map(
        id={"type": ids.LIVE_MAP, "view": view}, center=CITY_CENTER, zoom=view_zoom(view), zoomSnap=0.25,
        preferCanvas=True, attributionControl=False, zoomControl=False, scrollWheelZoom=False, className="live-map",
        children=[
            dl.LayerGroup(id={"type": ids.LIVE_TILES, "view": view}),
            dl.GeoJSON(url=DISTRICTS_URL, style=OUTLINE_STYLE, interactive=False),
            dl.GeoJSON(id={"type": ids.LIVE_SENSORS, "view": view}, pointToLayer={"variable": JS + "sensorOrCluster"},
                       hideout={"colours": [STATUS_COLOURS[s] for s in STATUSES], "radius": dot_radius}),
            alert_layer({"type": ids.LIVE_ALERT_MARKERS, "view": view}, radius=dot_radius * 2.5),
        ],
    )  # fmt: skip
