// Component libraries left out of the pages that do not render them (serving/page_scripts.py: dash-ag-grid,
// dash-leaflet): each is a prefetch hint there, run when the page is idle a few seconds after its load, so moving
// inside the app to a page that needs it finds it. A click that would get there before it has loaded becomes a
// full page load, whose HTML brings the script.
(function () {
  var hints = Array.prototype.slice.call(document.querySelectorAll("link.ioc-deferred-script"));
  if (!hints.length) return;  // this page loaded every library itself

  function needs(hint, href) {
    var path = new URL(href, window.location.href).pathname;
    return (hint.dataset.pages || "").split(" ").filter(Boolean).some(function (page) {
      return path === page || (page !== "/" && path.indexOf(page + "/") === 0);  // Deferred.needed_at
    });
  }

  window.addEventListener("click", function (event) {
    var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || new URL(link.href, window.location.href).origin !== window.location.origin) return;
    var missing = hints.some(function (hint) { return !window[hint.dataset.library] && needs(hint, link.href); });
    if (!missing) return;
    event.preventDefault();
    event.stopPropagation();
    window.location.assign(link.href);
  }, true);

  function load() {
    hints.forEach(function (hint) {
      var script = document.createElement("script");
      script.src = hint.href;
      document.head.appendChild(script);
    });
  }
  // Not at the first idle moment after the page's load: Dash is then waiting for its layout, and running 1.3 MB
  // of script there delayed the map's first clusters (a 100-200 ms task, seen in Chromium's long tasks).
  var AFTER_LOAD_MS = 3000;
  var idle = window.requestIdleCallback || function (run) { return setTimeout(run, 0); };
  function later() { setTimeout(function () { idle(load); }, AFTER_LOAD_MS); }
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later);
})();
