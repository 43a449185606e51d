"""The city's district geometry: point-in-district lookups, GCJ-02 conversion, map clusters (boundaries: cities/)."""
