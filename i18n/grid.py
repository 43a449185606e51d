"""AG Grid's own words (pagination, empty overlay, filter menus) in the request's language: its ``localeText``."""

from __future__ import annotations

from i18n.current import _
from i18n.mark import N_

# AG Grid's locale keys and their English, as msgids (the keys a page of ours can show).
GRID_WORDS: dict[str, str] = {
    "page": N_("Page"), "of": N_("of"), "to": N_("to"), "more": N_("more"), "next": N_("Next"),
    "last": N_("Last"), "first": N_("First"), "previous": N_("Previous"), "loadingOoo": N_("Loading..."),
    "noRowsToShow": N_("No rows to show"), "pageSizeSelectorLabel": N_("Page size:"),
    "ariaPageSizeSelectorLabel": N_("Page size"), "filterOoo": N_("Filter..."), "searchOoo": N_("Search..."),
    "selectAll": N_("(Select all)"), "blanks": N_("(Blanks)"), "equals": N_("Equals"),
    "notEqual": N_("Does not equal"), "contains": N_("Contains"), "notContains": N_("Does not contain"),
    "startsWith": N_("Begins with"), "endsWith": N_("Ends with"), "lessThan": N_("Less than"),
    "greaterThan": N_("Greater than"), "inRange": N_("Between"), "andCondition": N_("AND"),
    "orCondition": N_("OR"), "blank": N_("Blank"), "notBlank": N_("Not blank"), "applyFilter": N_("Apply"),
    "resetFilter": N_("Reset"), "clearFilter": N_("Clear"), "true": N_("True"), "false": N_("False"),
}  # fmt: skip


def grid_locale() -> dict[str, str]:
    """``dashGridOptions={"localeText": grid_locale()}``: AG Grid's words in the request's language."""
    return {key: _(text) for key, text in GRID_WORDS.items()}
