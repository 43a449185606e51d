// Leaflet callbacks of the city map (/map), referenced from Python as {"variable": "ioc.map.<name>"}.
// dash-leaflet passes a context holding the layer's props last, so colours and classes come from `hideout`.
window.ioc = window.ioc || {};
(function () {
    const FALLBACK = ["#2e9d5b", "#f0a202", "#d7263d", "#8a8f98"];  // by status code s: normal, warning, critical, stale
    const NAMES = ["normal", "warning", "critical", "stale"];
    // A cluster shows its most urgent status: critical, then warning, then stale, then normal. (A single sensor
    // that is stale AND over a threshold is stale; a cluster with one critical sensor is critical, whatever else.)
    const URGENCY = [2, 1, 3, 0];

    function abbreviated(n) {
        return n >= 10000 ? Math.round(n / 1000) + "k" : n >= 1000 ? (n / 1000).toFixed(1) + "k" : String(n);
    }

    window.ioc.map = {
        sensorPoint: function (feature, latlng, context) {
            const colours = (context && context.hideout && context.hideout.colours) || FALLBACK;
            const colour = colours[feature.properties.s] || colours[colours.length - 1];
            return L.circleMarker(latlng, {radius: 6, weight: 1, color: "#1b1f24", fillColor: colour, fillOpacity: 0.9})
                .bindTooltip(window.ioc.textLines(feature.properties.id));  // text, never HTML (ioc_live.js)
        },
        // A feature of the server's clusters (geo/clusters.py): a cluster, or a single sensor.
        sensorOrCluster: function (feature, latlng, context) {
            return feature.properties.cluster
                ? window.ioc.map.clusterPoint(feature, latlng, context)
                : window.ioc.map.sensorPoint(feature, latlng, context);
        },
        // A cluster: a disc in its most urgent status's colour, a ring of every status's share, the count, and
        // the count of the most urgent status as a badge when it is not normal. Built from DOM nodes. A click
        // (or Enter) zooms to the bounds of its sensors.
        clusterPoint: function (feature, latlng, context) {
            const colours = (context && context.hideout && context.hideout.colours) || FALLBACK;
            const counts = feature.properties.c;
            const total = counts[0] + counts[1] + counts[2] + counts[3];
            const urgent = URGENCY.find(function (s) { return counts[s] > 0; });
            const size = Math.round(30 + 6 * Math.log10(Math.max(total, 1)));
            let start = 0;
            const stops = URGENCY.map(function (s) {
                const end = start + (100 * counts[s]) / total;
                const stop = colours[s] + " " + start.toFixed(2) + "% " + end.toFixed(2) + "%";
                start = end;
                return stop;
            });
            const ring = document.createElement("div");
            ring.className = "status-cluster status-cluster-" + NAMES[urgent];
            ring.style.width = ring.style.height = size + "px";
            ring.style.background = "conic-gradient(" + stops.join(", ") + ")";
            const disc = document.createElement("div");
            disc.className = "status-cluster-disc";
            disc.style.background = colours[urgent];
            disc.textContent = abbreviated(total);
            ring.appendChild(disc);
            if (urgent !== 0) {
                const badge = document.createElement("span");
                badge.className = "status-cluster-badge";
                badge.textContent = abbreviated(counts[urgent]);
                ring.appendChild(badge);
            }
            const lines = [window.ioc.t("sensors_in_cluster", {n: total.toLocaleString(window.ioc.lang())})];
            URGENCY.forEach(function (s) {
                if (counts[s]) { lines.push(window.ioc.t("status_" + NAMES[s]) + " " + counts[s].toLocaleString(window.ioc.lang())); }
            });
            const b = feature.properties.b;  // [south, west, north, east]
            return L.marker(latlng, {icon: L.divIcon({html: ring, className: "", iconSize: [size, size]}),
                                     title: lines.join(", ")})
                .bindTooltip(window.ioc.textLines.apply(null, lines))
                .on("click", function () {
                    this._map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {padding: [24, 24], maxZoom: 19});
                });
        },
        // Open complaints per district in fixed classes (layouts/city_map.py), so one request never fills a district.
        densityStyle: function (feature, context) {
            const hideout = (context && context.hideout) || {};
            const level = (hideout.classes || {})[feature.properties.id] || 0;
            return {weight: 0, fillColor: hideout.colour || "#c2410c", fillOpacity: (hideout.opacities || [0])[level] || 0};
        },
    };
})();
