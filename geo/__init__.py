"""The city's district geometry: boundaries (geo/data), GCJ-02 conversion and point-in-district lookups."""
