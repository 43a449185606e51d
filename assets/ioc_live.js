// Live views (overview, wall): the sensor dot or cluster, wall rotation and the freshness indicator.
// Referenced from Python as {"variable": "ioc.live.<name>"} and as clientside callbacks "live".
window.ioc = window.ioc || {};

// Tooltip content as DOM text, one line per argument. Leaflet puts a *string* tooltip in innerHTML, and device
// ids, rule summaries and site names come from producers we do not control: never hand Leaflet a string.
window.ioc.textLines = function () {
    const box = document.createElement("div");
    Array.prototype.filter.call(arguments, function (line) { return line !== undefined && line !== null && line !== ""; })
        .forEach(function (line, i) {
            if (i > 0) { box.appendChild(document.createElement("br")); }
            box.appendChild(document.createTextNode(String(line)));
        });
    return box;
};

window.ioc.live = {
    sensorPoint: function (feature, latlng, context) {
        const hideout = (context && context.hideout) || {};
        const colours = hideout.colours || ["#2e9d5b", "#f0a202", "#d7263d", "#8a8f98"];
        const colour = colours[feature.properties.s] || colours[colours.length - 1];
        return L.circleMarker(latlng, {radius: hideout.radius || 3.5, weight: 0, fillColor: colour, fillOpacity: 0.95})
            .bindTooltip(window.ioc.textLines(feature.properties.id));
    },
    // The server's clusters for the map's one zoom (layouts/live_map.py): drawn as on the city map, but a live map
    // never moves, so a cluster does not zoom in when clicked.
    sensorOrCluster: function (feature, latlng, context) {
        return feature.properties.cluster
            ? window.ioc.map.clusterPoint(feature, latlng, context).off("click")
            : window.ioc.live.sensorPoint(feature, latlng, context);
    },
    // An open alert: a ring in its severity's colour, the summary as tooltip (also used by the city map page).
    alertPoint: function (feature, latlng, context) {
        const hideout = (context && context.hideout) || {};
        const colours = hideout.colours || {};
        const p = feature.properties;
        if (p.predicted) {
            // A predicted alert: a dashed ring, and how long until its level is expected always written beside it.
            const marker = L.circleMarker(latlng, {radius: (hideout.radius || 9) + 3, weight: 3, dashArray: "4 3",
                                                   color: colours.predicted || "#58a6ff", fill: true, fillOpacity: 0.1,
                                                   className: "alert-marker alert-predicted"});
            return marker.bindTooltip(window.ioc.textLines(p.lead, p.subject), {permanent: true, direction: "right",
                                                                                 className: "alert-lead-label"})
                .bindPopup(window.ioc.textLines(p.rule + " · " + p.subject, p.summary));
        }
        return L.circleMarker(latlng, {radius: hideout.radius || 9, weight: 3, color: colours[p.severity] || "#d7263d",
                                       fill: true, fillOpacity: 0.15, className: "alert-marker alert-" + p.severity})
            .bindTooltip(window.ioc.textLines(window.ioc.t("severity_" + p.severity) + " · " + p.rule + " · " + p.subject,
                                               p.summary));
    },
};

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.live = {
    // How old the newest data is, judged on the server's clock (the wall PC's clock may be wrong): the
    // server sends its time with each answer, and the browser adds the time elapsed since that answer.
    // It runs in the browser on every tick, so it keeps counting (and turns red) while the server is away.
    freshness: function (_n, clock) {
        const state = window.ioc.live._clock || (window.ioc.live._clock = {});
        if (clock && clock.server_ms !== state.server_ms) {
            state.server_ms = clock.server_ms;
            state.received = Date.now();
        }
        if (!clock || !clock.server_ms) {
            return [window.ioc.t("waiting_first_data"), "freshness freshness-wait"];
        }
        const since = Date.now() - state.received;
        const serverNow = clock.server_ms + since;
        const words = function (ms) {
            const s = Math.max(0, Math.round(ms / 1000));
            if (s < 90) { return window.ioc.t("age_s", {n: s}); }
            if (s < 5400) { return window.ioc.t("age_min", {n: Math.round(s / 60)}); }
            return window.ioc.t("age_h", {n: Math.round(s / 3600)});
        };
        if (since > Math.max(10000, 5 * (clock.refresh_ms || 1000))) {
            return [window.ioc.t("no_answer", {age: words(since)}), "freshness freshness-stale"];
        }
        if (!clock.built) {
            return [window.ioc.t("waiting_snapshot"), "freshness freshness-wait"];
        }
        if (!clock.newest_ms) {
            return [window.ioc.t("no_data"), "freshness freshness-stale"];
        }
        const age = serverNow - clock.newest_ms;
        if (age > clock.stale_after_s * 1000) {
            return [window.ioc.t("data_old", {age: words(age)}), "freshness freshness-stale"];
        }
        return [window.ioc.t("live_age", {age: words(age)}), "freshness freshness-ok"];
    },
    // Show the playlist's views one after another; every view stays mounted, so maps keep their size.
    rotate: function (n, config, ids) {
        const playlist = (config && config.playlist) || [];
        const names = ids.map(function (id) { return id.view; });
        const shown = playlist.filter(function (name) { return names.indexOf(name) >= 0; });
        const active = shown.length ? shown[(n || 0) % shown.length] : names[0];
        const classes = names.map(function (name) { return name === active ? "wall-view wall-view-active" : "wall-view"; });
        return [classes, ((config && config.titles) || {})[active] || active];
    },
};
// The wall's clock, on the server's time in the display time zone, written the page language's way.
window.dash_clientside.live.clock = function (_n, clock) {
    const state = window.ioc.live._clock || {};
    if (!clock || !clock.server_ms || !state.received) { return ""; }
    const now = new Date(clock.server_ms + (Date.now() - state.received));
    return now.toLocaleTimeString(window.ioc.lang(), {timeZone: clock.timezone || "Asia/Shanghai", hour: "2-digit", minute: "2-digit",
                                                   hourCycle: "h23"});
};
