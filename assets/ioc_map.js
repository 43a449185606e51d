// Leaflet callbacks of the city map (/map), referenced from Python as {"variable": "ioc.map.<name>"}.
// dash-leaflet passes a context holding the layer's props last, so colours and counts come from `hideout`.
window.ioc = window.ioc || {};
window.ioc.map = {
    sensorPoint: function (feature, latlng, context) {
        const colours = (context && context.hideout && context.hideout.colours) || ["#2e9d5b", "#f0a202", "#d7263d", "#8a8f98"];
        const colour = colours[feature.properties.s] || colours[colours.length - 1];
        return L.circleMarker(latlng, {radius: 6, weight: 1, color: "#1b1f24", fillColor: colour, fillOpacity: 0.9})
            .bindTooltip(window.ioc.textLines(feature.properties.id));  // text, never HTML (ioc_live.js)
    },
    densityStyle: function (feature, context) {
        const hideout = (context && context.hideout) || {};
        const open = (hideout.open || {})[feature.properties.id] || 0;
        const share = hideout.max ? open / hideout.max : 0;
        return {weight: 0, fillColor: "#c2410c", fillOpacity: 0.08 + 0.5 * share};
    },
};
