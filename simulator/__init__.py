"""A seeded, believable city (IOC_CITY's pack) on the streams: pure generators (engine), one I/O loop (publisher)."""
