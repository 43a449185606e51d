"""The live views' one server callback: per tick, re-send only the parts of the snapshot that changed.

A tick costs no database query: ``services.snapshot()`` answers from the process's cache (one Redis HGET at
most every 0.25 s). When this browser already shows the current version, every output is ``no_update``
except the small server clock the freshness indicator runs on; when the version moved, only the parts whose
digest differs from what this browser recorded in ``LIVE_SEEN`` are rendered and sent.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, no_update

import bootstrap
from auth.roles import Permission
from auth.web import requires
from callbacks.map_sensors import MapSensors
from i18n.current import language
from layouts import ids, live
from layouts.city_map import STATUS_COLOURS, STATUSES, alert_features, city_bounds, tile_layers
from layouts.live_map import cluster_zoom, live_view, view_zoom

# LIVE_SENSORS first: rendered per view (each map's zoom), the others once for every view.
PARTS = (ids.LIVE_SENSORS, ids.LIVE_COUNTS, ids.LIVE_ALERTS, ids.LIVE_SITES, ids.LIVE_LATEST,
         ids.LIVE_ALERT_MARKERS)
DATA_PARTS = (ids.LIVE_SENSORS, ids.LIVE_ALERT_MARKERS)  # map layers: their ``data``; the rest: ``children``


def changed(seen: dict | None, digests: dict, part: str) -> bool:
    """Whether ``part`` differs from what this browser last drew."""
    drawn = (seen or {}).get("digests")
    return not isinstance(drawn, dict) or drawn.get(part) != digests.get(part)


class RenderCache:
    """Parts rendered once per snapshot version, language and process, whichever viewers ask (thread-safe
    enough: a race renders a part twice, never wrongly)."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.parts: dict[str, object] = {}

    def get(self, version: int, name: str, render: Callable[[], object]) -> object:
        if version != self.version:
            self.version, self.parts = version, {}
        parts, key = self.parts, f"{language()}:{name}"
        if key not in parts:
            parts[key] = render()
        return parts[key]


def register(app: Dash, services, sensors: MapSensors) -> None:
    settings = services.settings
    colours = {s: STATUS_COLOURS[s] for s in STATUSES}
    renderers: dict[str, tuple[str, Callable[[dict], object]]] = {
        ids.LIVE_COUNTS: ("sensor_counts", lambda doc: live.status_counts(doc["sensor_counts"], colours)),
        ids.LIVE_ALERTS: ("alerts", lambda doc: live.alerts_list(doc["alerts"], settings.display_zone)),
        ids.LIVE_SITES: ("sites", lambda doc: live.sites_table(doc["sites"])),
        ids.LIVE_LATEST: ("latest_reading",
                          lambda doc: live.latest_line(doc["latest_reading"], settings.display_zone)),
        ids.LIVE_ALERT_MARKERS: ("alert_markers", lambda doc: alert_features(doc["alerts"]["items"])),
    }  # fmt: skip
    cache = RenderCache()

    @functools.lru_cache(maxsize=16)  # keyed by a view name the browser sends back: bounded
    def city_view(view: str) -> dict:
        """Where ``view``'s map looks: the whole city of the settings (its centre and zoom)."""
        return live_view(city_bounds(bootstrap.districts_geojson(settings)), view_zoom(view))

    @app.callback(
        Output(ids.LIVE_SEEN, "data"), Output(ids.LIVE_CLOCK, "data"), Output(ids.LIVE_TICK, "interval"),
        Output({"type": ids.LIVE_KPI, "key": ALL, "view": ALL}, "children"),
        *[Output({"type": part, "view": ALL}, "data" if part in DATA_PARTS else "children") for part in PARTS],
        Input(ids.LIVE_TICK, "n_intervals"), State(ids.LIVE_SEEN, "data"),
    )  # fmt: skip
    @requires(Permission.WATCH_WALL)
    def refresh(_n: int | None, seen: object):
        seen = seen if isinstance(seen, dict) else None  # the client's own store: any JSON a client chose
        snapshot = services.snapshot()
        doc = snapshot.doc if snapshot else {}
        clock = {"server_ms": int(time.time() * 1000), "newest_ms": doc.get("newest_ms"), "built": bool(doc),
                 "stale_after_s": settings.stale_after_s, "refresh_ms": settings.live_refresh_ms,
                 "timezone": settings.display_zone}  # fmt: skip
        interval = no_update if seen else settings.live_refresh_ms
        if snapshot is None or (seen or {}).get("version") == snapshot.version:
            unchanged = [[no_update] * len(outputs) for outputs in ctx.outputs_list[3:]]
            return no_update, clock, interval, *unchanged
        digests = doc["digests"]
        version = snapshot.version

        def kpi(key: str):
            name = f"kpi:{key}"
            if not changed(seen, digests, name):
                return no_update
            return cache.get(version, name, lambda: live.kpi_body(key, doc["kpis"].get(key)))

        kpis = [kpi(o["id"]["key"]) for o in ctx.outputs_list[3]]

        def sensor_clusters(view: str):
            zoom = cluster_zoom(city_view(view)["zoom"])
            index, _counts = sensors.chosen(services, (), ())
            return cache.get(version, f"sensors@{zoom}", lambda: index.features(None, zoom))

        parts = [[sensor_clusters(o["id"]["view"]) if changed(seen, digests, "sensors") else no_update
                  for o in ctx.outputs_list[4]]]  # fmt: skip
        for part, outputs in zip(PARTS[1:], ctx.outputs_list[5:], strict=True):
            name, render = renderers[part]
            value = no_update
            if outputs and changed(seen, digests, name):
                value = cache.get(version, name, lambda render=render: render(doc))
            parts.append([value] * len(outputs))
        return {"version": snapshot.version, "digests": digests}, clock, interval, kpis, *parts

    @app.callback(Output({"type": ids.LIVE_TILES, "view": MATCH}, "children"),
                  Output({"type": ids.LIVE_MAP, "view": MATCH}, "viewport"),
                  Input({"type": ids.LIVE_MAP, "view": MATCH}, "id"))  # fmt: skip
    @requires(Permission.WATCH_WALL)
    def tiles(map_id: dict):
        view = map_id.get("view") if isinstance(map_id, dict) else None  # the browser's echo: any JSON
        return tile_layers(settings.map_tile_url, settings.map_tile_attribution), city_view(str(view))

    app.clientside_callback(ClientsideFunction("live", "freshness"),
                            Output(ids.LIVE_FRESHNESS, "children"), Output(ids.LIVE_FRESHNESS, "className"),
                            Input(ids.LIVE_TICK, "n_intervals"), Input(ids.LIVE_CLOCK, "data"))  # fmt: skip
