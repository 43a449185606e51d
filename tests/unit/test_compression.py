"""The cache of compressed static files: only fingerprinted static paths, bounded in bytes, oldest out first."""

from __future__ import annotations

from types import SimpleNamespace

from serving.compression import StaticCompressionCache, static_key


def _request(path: str, method: str = "GET", query: str = "") -> SimpleNamespace:
    return SimpleNamespace(method=method, path=path, full_path=f"{path}?{query}")


def test_only_static_files_have_a_key():
    assert static_key(_request("/_dash-component-suites/dash/dcc/x.v4_4_1m17.js")).startswith("/_dash-component")
    assert static_key(_request("/assets/ioc.css", query="m=17")) == "/assets/ioc.css?m=17"
    assert static_key(_request("/_dash-update-component", method="POST")) == ""
    assert static_key(_request("/_dash-layout")) == ""
    assert static_key(_request("/assets/ioc.css", method="POST")) == ""
    assert len(static_key(_request("/assets/" + "x" * 5_000))) == 1_024


def test_answers_without_a_key_are_neither_kept_nor_found():
    cache = StaticCompressionCache(1_000)
    cache.set("br;", b"callback answer")
    assert cache.get("br;") is None and len(cache) == 0


def test_the_cache_keeps_within_its_bytes_dropping_the_least_recently_used():
    cache = StaticCompressionCache(1_000)
    cache.set("br;/a", b"a" * 400)
    cache.set("br;/b", b"b" * 400)
    assert cache.get("br;/a") == b"a" * 400  # /a is now the most recently used
    cache.set("br;/c", b"c" * 400)
    assert cache.get("br;/b") is None and cache.get("br;/a") and cache.get("br;/c")
    assert cache.used_bytes == 800
    cache.set("br;/huge", b"h" * 1_001)  # larger than the whole cache: not kept, nothing evicted for it
    assert cache.get("br;/huge") is None and len(cache) == 2
    cache.set("br;/a", b"a" * 100)  # replacing an entry counts only its new size
    assert cache.used_bytes == 500
