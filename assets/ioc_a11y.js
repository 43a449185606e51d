// Accessibility repairs of Dash 4's own components, found with axe-core (tests/e2e/test_accessibility.py).
// Dash renders these parts itself, with no prop to change them, so they are mended in the DOM as they appear:
//  - dcc.Dropdown puts keyboard focus on a hidden proxy <input aria-hidden="true" tabindex="0"> and takes its
//    visible button out of the tab order (axe: aria-hidden-focus). The button, which opens the list on Enter or
//    Space, becomes the tab stop; the proxy leaves the tab order.
//  - dcc.RadioItems / dcc.Checklist (not the dropdown's own option list) wrap native inputs in <label role="option"> inside role="listbox" (axe:
//    nested-interactive, aria-input-field-name). Native radios and checkboxes need no ARIA: the roles go, and
//    the group is named by the element whose id is the group's id + "-label" (layouts/time_range.py).
(function () {
    function set(element, name, value) {  // only when different: every write is a mutation we observe
        if (element && element.getAttribute(name) !== value) { element.setAttribute(name, value); }
    }

    function mend(root) {
        root.querySelectorAll(".dash-dropdown-wrapper").forEach(function (wrapper) {
            set(wrapper.querySelector(".dash-dropdown-focus-target"), "tabindex", "-1");
            set(wrapper.querySelector("button.dash-dropdown"), "tabindex", "0");
        });
        root.querySelectorAll(".dash-radioitems[role='listbox'], .dash-checklist[role='listbox']").forEach(function (group) {
            set(group, "role", group.classList.contains("dash-radioitems") ? "radiogroup" : "group");
            const label = group.id && document.getElementById(group.id + "-label");
            if (label && !group.hasAttribute("aria-labelledby")) { group.setAttribute("aria-labelledby", label.id); }
        });
        root.querySelectorAll(".dash-radioitems > [role='option'], .dash-checklist > [role='option']").forEach(function (option) {
            option.removeAttribute("role");
            option.removeAttribute("aria-selected");
        });
        root.querySelectorAll(".dash-radioitems > [aria-selected], .dash-checklist > [aria-selected]").forEach(function (option) {
            option.removeAttribute("aria-selected");  // React sets it again when the choice changes
        });
    }
    new MutationObserver(function () { mend(document); })
        .observe(document.documentElement, {childList: true, subtree: true, attributes: true,
                                            attributeFilter: ["role", "aria-selected", "tabindex"]});
    document.addEventListener("DOMContentLoaded", function () { mend(document); });
})();
