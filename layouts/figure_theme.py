"""The look the pages' plotly figures share: dark, on the panel colour of assets/ioc.css."""

PANEL = "#182028"
FIGURE_THEME = {"template": "plotly_dark", "paper_bgcolor": PANEL, "plot_bgcolor": PANEL}
