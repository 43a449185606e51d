"""The live snapshot: one JSON document of the city's state, rebuilt once when data changed, read by every viewer.

``builder`` elects one rebuilder among all workers with a Redis lock and stores the snapshot with a version;
``reader`` gives viewers the current snapshot from an in-process cache checked against that version. Viewers
never query the database. docs/DASHBOARD.md explains the design and its measurements.
"""
