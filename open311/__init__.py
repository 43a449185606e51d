"""Open311 GeoReport v2: the city's service requests read by Open311 apps and clients (docs/OPEN311.md).

Pure parts (``catalogue``, ``paths``, ``query``, ``mapping``, ``render``) turn complaint rows into the spec's
documents; ``store`` reads the rows, ``routes`` serves them behind a per-address rate limit.
"""
