// Incidents on the maps (layouts/incident_overlays.py): a dashed ring per incident, coloured by its state.
// Referenced from Python as {"variable": "ioc.incidents.point"}. Titles come from alert summaries and labels from
// the server in the reader's language; both go in as DOM text (window.ioc.textLines), never as HTML.
window.ioc = window.ioc || {};
window.ioc.incidents = {
    point: function (feature, latlng, context) {
        const hideout = (context && context.hideout) || {};
        const colours = hideout.colours || {};
        const p = feature.properties;
        return L.circleMarker(latlng, {radius: hideout.radius || 22, weight: 3, dashArray: "6 4",
                                       color: colours[p.state] || "#7b3fa0", fill: true, fillOpacity: 0.08,
                                       className: "incident-marker incident-marker-" + p.state})
            .bindTooltip(window.ioc.textLines(p.label, p.title));
    },
};
