"""The cost baseline of the sign-in gate: the app as shipped, but every request let in as a wall display without
looking at any session. Only ``bench/dashboard.py`` serves it (``gunicorn bench.dashboard_open_app:server``);
the difference to ``app:server`` with display or person sessions is what checking sessions costs.
"""

from __future__ import annotations

import flask

from app import server
from auth.principal import Principal
from auth.roles import Role
from auth.web import Gate

ANYONE = Principal("display:bench-open", Role.DISPLAY)


def let_in() -> None:
    flask.g.principal = ANYONE


_hooks = server.before_request_funcs[None]
_hooks[:] = [let_in if isinstance(getattr(f, "__self__", None), Gate) else f for f in _hooks]
