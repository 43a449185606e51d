/* When the server stops letting this page in (session ended, account disabled, display token revoked), say so on
 * screen instead of silently freezing: the gate (auth/web.py) answers Dash's requests with 401/403 and a reason.
 * Everything shown is set as text (textContent), never as HTML. */
(function () {
    "use strict";
    const original = window.fetch.bind(window);
    let shown = false;

    function overlay(title, text, link) {
        if (shown) { return; }
        shown = true;
        const box = document.createElement("div");
        box.className = "session-overlay";
        box.setAttribute("role", "alertdialog");
        box.setAttribute("aria-live", "assertive");
        const heading = document.createElement("h1");
        heading.textContent = title;
        const body = document.createElement("p");
        body.textContent = text;
        box.append(heading, body);
        if (link) {
            const a = document.createElement("a");
            a.href = link.href;
            a.textContent = link.text;
            a.className = "btn";
            box.append(a);
        }
        document.body.append(box);
    }

    function notice(text) {
        let bar = document.querySelector(".session-notice");
        if (!bar) {
            bar = document.createElement("div");
            bar.className = "session-notice";
            bar.setAttribute("role", "status");
            document.body.append(bar);
        }
        bar.textContent = text;
        clearTimeout(bar.hideTimer);
        bar.hideTimer = setTimeout(function () { bar.remove(); }, 8000);
    }

    function react(status, reply) {
        const error = reply && reply.error;
        const message = (reply && typeof reply.message === "string") ? reply.message : "";
        if (error === "display_revoked") {
            overlay(window.ioc.t("display_off"), message || window.ioc.t("display_revoked"));
        } else if (status === 401) {
            const next = encodeURIComponent(window.location.pathname + window.location.search);
            overlay(window.ioc.t("signed_out"), message || window.ioc.t("session_ended"),
                    {href: "/login?next=" + next, text: window.ioc.t("sign_in_again")});
        } else if (status === 403) {
            notice(message || window.ioc.t("refused_role"));
        }
    }

    window.fetch = function (resource, init) {
        return original(resource, init).then(function (response) {
            const url = String((resource && resource.url) || resource);
            if ((response.status === 401 || response.status === 403) && url.indexOf("/_dash-") !== -1) {
                response.clone().json().then(function (reply) { react(response.status, reply); },
                                             function () { react(response.status, null); });
            }
            return response;
        });
    };
}());
