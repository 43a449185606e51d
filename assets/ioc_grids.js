// dash-ag-grid's script, left out of the pages without a grid (serving/page_scripts.py): loaded when the page is
// idle a few seconds after its load, so moving to the alert console or the complaints page inside the app finds it. A click that would get
// there before it has loaded becomes a full page load, whose HTML brings the script.
(function () {
  var hint = document.getElementById("ioc-grid-script");
  if (!hint) return;  // a grid page: its HTML loaded the script itself
  var GRID_PAGES = (hint.dataset.gridPages || "").split(" ").filter(Boolean);  // serving/page_scripts.py's list

  function gridPage(href) {
    var path = new URL(href, window.location.href).pathname;
    return GRID_PAGES.some(function (page) { return path === page || path.indexOf(page + "/") === 0; });
  }

  window.addEventListener("click", function (event) {
    if (window.dash_ag_grid) return;
    var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || !gridPage(link.href) || new URL(link.href).origin !== window.location.origin) return;
    event.preventDefault();
    event.stopPropagation();
    window.location.assign(link.href);
  }, true);

  function load() {
    var script = document.createElement("script");
    script.src = hint.href;
    document.head.appendChild(script);
  }
  // Not at the first idle moment after the page's load: Dash is then waiting for its layout, and running 1.3 MB
  // of script there delayed the map's first clusters (a 100-200 ms task, seen in Chromium's long tasks).
  var AFTER_LOAD_MS = 3000;
  var idle = window.requestIdleCallback || function (run) { return setTimeout(run, 0); };
  function later() { setTimeout(function () { idle(load); }, AFTER_LOAD_MS); }
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later);
})();
