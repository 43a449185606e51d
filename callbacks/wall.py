"""The wall's playlist and rotation: the server resolves the playlist once, the browser rotates on its own."""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Dash, Input, Output, State

from auth.roles import Permission
from auth.web import current_principal, requires
from i18n.current import _, language
from layouts import ids
from layouts.wall import wall_config


def register(app: Dash, services) -> None:
    settings = services.settings

    @app.callback(Output(ids.WALL_CONFIG, "data"), Output(ids.WALL_ROTATE, "interval"),
                  Output(ids.WALL_BRAND, "children"), Input(ids.WALL_QUERY, "data"))  # fmt: skip
    @requires(Permission.WATCH_WALL)
    def configure(query: dict | None):
        binding = current_principal().wall
        if binding is not None:  # a display token's playlist and interval win over the address bar
            query = {"playlist": ",".join(binding.playlist), "interval": str(binding.interval_s)}
        config = wall_config(query if isinstance(query, dict) else {}, settings.wall_playlist,
                             settings.wall_interval_s)  # fmt: skip
        return config, config["interval_ms"], _("{city} IOC").format(city=settings.city_pack.name(language()))

    app.clientside_callback(ClientsideFunction("live", "rotate"),
                            Output({"type": ids.WALL_VIEW, "view": ALL}, "className"),
                            Output(ids.WALL_TITLE, "children"),
                            Input(ids.WALL_ROTATE, "n_intervals"), Input(ids.WALL_CONFIG, "data"),
                            State({"type": ids.WALL_VIEW, "view": ALL}, "id"))  # fmt: skip
    app.clientside_callback(ClientsideFunction("live", "clock"), Output(ids.WALL_CLOCK, "children"),
                            Input(ids.LIVE_TICK, "n_intervals"), Input(ids.LIVE_CLOCK, "data"))
