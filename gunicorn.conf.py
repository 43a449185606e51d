"""gunicorn's settings for every way the dashboard is served (gunicorn reads ./gunicorn.conf.py by itself).

The access log names the path without the query string and without the referrer: a wall's first request carries
its display token in the query (``/wall?token=…``, exchanged at once for a cookie), and no token or filter value
belongs in a log file.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
