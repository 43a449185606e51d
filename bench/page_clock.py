"""When something first shows on a page, read on the page's own clock (for the browser benchmarks).

Timing from outside (``time.perf_counter()`` around Playwright's ``goto`` and ``wait_for_selector``) adds what
Playwright's waiting costs: it looks for a selector on a backing-off schedule (up to 0.5 s between looks) and over
a round trip to the driver, and on this machine that added 0.25 s (median of 12 loads of the map at 50,000 sensors)
to a time of about 1 s. A probe injected before the page's first script instead notes, for each selector, the
first animation frame in which a matching element is in the document, in milliseconds from the navigation's start
(``performance.now()``): what a person looking at the screen would see, as the browser itself timed it.
"""

from __future__ import annotations

import json

# A MutationObserver from the document's start; on the first mutation that brings a selector's element, the
# time of the next animation frame (the one that paints it) is kept in window.__iocShown[selector].
PROBE = """(() => {
  const selectors = %s;
  const shown = window.__iocShown = {};
  const look = () => {
    for (const selector of selectors) {
      if (!(selector in shown) && document.querySelector(selector)) {
        shown[selector] = null;
        requestAnimationFrame(() => { shown[selector] = performance.now(); });
      }
    }
  };
  new MutationObserver(look).observe(document, {childList: true, subtree: true});
})();"""


def watch(context, selectors: list[str]) -> None:
    """Time the first appearance of each of ``selectors`` on every page ``context`` opens from now on."""
    context.add_init_script(script=PROBE % json.dumps(selectors))


def shown_after(page, selector: str, timeout_ms: float = 120_000) -> float:
    """Seconds from the page's navigation start to the frame that first showed ``selector`` (waits for it)."""
    handle = page.wait_for_function("s => window.__iocShown && typeof window.__iocShown[s] === 'number'",
                                    arg=selector, timeout=timeout_ms)  # fmt: skip
    handle.dispose()
    return page.evaluate("s => window.__iocShown[s]", selector) / 1000
