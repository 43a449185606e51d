"""A seeded, believable Shenzhen on the city streams: pure generators (engine) and one I/O loop (publisher)."""
