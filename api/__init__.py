"""The open-data API, /api/v1: read-only JSON for the city's developers, with keys issued by admins."""
