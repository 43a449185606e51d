"""Compressed answers (flask-compress): zstd, brotli or gzip, whichever the browser takes first in that order.

A cold load of the overview was 3.2 MB and of the map 5.2 MB, nearly all of it JavaScript bundles that compress
to about a fifth. Bundles never change under their fingerprinted URL, so each is compressed once per algorithm and
kept (``StaticCompressionCache``); callback answers differ per request and are compressed as they go, at the
libraries' fast levels. No answer holds a secret beside text a client chose (sessions travel in cookies, receiver
secrets never reach the browser), so compressing them does not open a BREACH-style leak.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import flask
from flask_compress import Compress

# Paths whose bytes never change while the process lives: Dash's fingerprinted component suites and our assets
# (their URLs carry Dash's ?m=<mtime> stamp). Anything else must never be answered from a cache.
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
MIMETYPES = [
    "text/html", "text/css", "text/plain", "text/csv", "text/javascript", "application/javascript",
    "application/json", "application/geo+json", "image/svg+xml",
]  # fmt: skip


class StaticCompressionCache:
    """Compressed static files by (algorithm, path), bounded in bytes, least recently used leaves first.

    flask-compress asks the cache for every answer it compresses; keys of answers that are not static files are
    empty (see ``static_key``) and neither stored nor found.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used_bytes = 0
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        if key.endswith(";"):
            return None
        with self._lock:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
            return data

    def set(self, key: str, data: bytes) -> None:
        if key.endswith(";") or len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self.used_bytes += len(data) - (len(old) if old is not None else 0)
            self._entries[key] = data
            while self.used_bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.used_bytes -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)


def static_key(request: flask.Request) -> str:
    """The cache key of a static file's answer; empty for every other answer, which is never cached."""
    if request.method == "GET" and request.path.startswith(STATIC_PREFIXES):
        return request.full_path[:1_024]
    return ""


def install(server: flask.Flask, cache_bytes: int) -> StaticCompressionCache:
    """Compress the server's answers; returns the cache of compressed static files."""
    cache = StaticCompressionCache(cache_bytes)
    server.config.update(
        COMPRESS_ALGORITHM=["zstd", "br", "gzip"],
        COMPRESS_ALGORITHM_STREAMING=["zstd", "br"],
        COMPRESS_MIMETYPES=MIMETYPES,
        COMPRESS_MIN_SIZE=1_024,  # below about a kilobyte the headers cost more than the bytes saved
        COMPRESS_CACHE_KEY=static_key,
        COMPRESS_CACHE_BACKEND=lambda: cache,
    )
    Compress(server)
    return cache
