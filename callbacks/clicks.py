"""Whether a callback runs because a person clicked, shared by the pages whose buttons change things."""

from __future__ import annotations

from dash import ctx


def clicked() -> bool:
    """A button was clicked (not merely drawn: re-rendered buttons fire with ``n_clicks`` None)."""
    return bool(ctx.triggered_id) and bool(ctx.triggered and ctx.triggered[0]["value"])
