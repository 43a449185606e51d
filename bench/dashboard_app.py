"""The baseline the dashboard benchmark compares against: the same app, but one database query per refresh.

``gunicorn bench.dashboard_app:server`` serves the real app whose live callback, before answering from the
snapshot, runs the query a straightforward dashboard would run per viewer and tick (devices online and data
freshness over ``sensor_latest``) on a pooled connection. Only ``bench/dashboard.py`` serves it.
"""

from __future__ import annotations

from psycopg_pool import ConnectionPool

import bootstrap
from live.store import Snapshot
from settings import Settings

PER_REFRESH_QUERY = """
    SELECT count(DISTINCT device_id) FILTER (WHERE ts > now() - interval '10 minutes'),
           count(DISTINCT device_id), max(ts)
    FROM sensor_latest
"""


class QueryPerRefreshServices(bootstrap.DashboardServices):
    """Dashboard services that cost one database round trip per viewer tick."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._pool: ConnectionPool | None = None

    def snapshot(self) -> Snapshot | None:
        if self._pool is None:
            self._pool = ConnectionPool(self.settings.database_url, min_size=2, max_size=8, open=True,
                                        kwargs={"options": f"-c search_path={self.settings.db_schema},public"})
        with self._pool.connection() as conn:
            conn.execute(PER_REFRESH_QUERY).fetchone()
        return super().snapshot()


# One Dash app per process (Dash keeps page and library registries per process), so the baseline swaps the
# services class the composition root builds, then builds the one app.
bootstrap.DashboardServices = QueryPerRefreshServices
from app import server  # noqa: E402, F401 - gunicorn serves this
