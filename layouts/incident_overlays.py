"""Incidents on the city map (a layer of rings by state) and on the wall (a panel of open incidents): pure builders.

Kept apart from the map's and the wall's own builders so other marks (predicted alerts, …) can join those views
without touching these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import dash_leaflet as dl
from dash import html

from i18n import current
from i18n.current import _
from i18n.terms import term

STATE_COLOURS = {"open": "#b5179e", "monitoring": "#4361ee", "closed": "#8a8f98"}
WALL_MAX = 8  # incidents listed on the wall; more is said as a count


def incident_features(incidents: Iterable[Mapping], centres: Mapping[str, tuple[float, float]]) -> dict:
    """Incidents as GeoJSON points at their centre, or their district's when they have none (a district-wide
    alert opened them); each carries its state, a label in the reader's language and its title."""
    features = []
    for i in incidents:
        lat, lon = (i["lat"], i["lon"]) if i.get("lat") is not None else centres.get(i["district"], (None, None))
        if lat is None or lon is None:
            continue
        label = _("Incident #{id} · {state} · {district}").format(
            id=i["id"], state=term("incident_state", i["state"]), district=current.district(i["district"]))
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                         "properties": {"id": i["id"], "state": i["state"], "label": label,
                                        "title": i["title"]}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def incident_layer(layer_id: object) -> dl.GeoJSON:
    """The incidents layer: a dashed ring per open or monitoring incident (``assets/ioc_incidents.js``)."""
    return dl.GeoJSON(id=layer_id, data=incident_features([], {}), pointToLayer={"variable": "ioc.incidents.point"},
                      hideout={"colours": STATE_COLOURS})  # fmt: skip


def wall_panel(incidents: Sequence[Mapping]) -> list:
    """The wall's list of open and monitoring incidents, newest first: state, district, title, members, owner."""
    if not incidents:
        return [html.H2(_("Incidents")), html.P(_("No open incidents."), className="muted")]
    rows = [html.Li([html.Span(term("incident_state", i["state"]), className=f"incident-state incident-{i['state']}"),
                     html.Span(f"#{i['id']} {current.district(i['district'])}", className="wall-incident-where"),
                     html.Span(i["title"], className="wall-incident-title"),
                     html.Span(_("{count} members").format(count=current.number(i["members"])),
                               className="wall-incident-members"),
                     html.Span(i["owner"] or _("no owner"), className="wall-incident-owner")],
                    className="wall-incident")
            for i in incidents[:WALL_MAX]]  # fmt: skip
    more = len(incidents) - WALL_MAX
    tail = [html.P(_("and {count} more").format(count=current.number(more)), className="muted")] if more > 0 else []
    return [html.H2(_("Incidents")), html.Ol(rows, className="wall-incidents-list"), *tail]
