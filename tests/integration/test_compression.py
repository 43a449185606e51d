"""Compressed answers from the real server: bundles and callback answers arrive compressed in the encoding the
client takes, decode to the very bytes of the uncompressed answer, and a client that takes none gets plain bytes."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import brotli
import pytest
import requests
from backports import zstd

from settings import Settings
from tests.integration.dash_http import DashCallbacks
from tests.isolation import isolated
from tests.served import ACCOUNTS, Served, add_accounts, free_port

pytestmark = pytest.mark.integration

DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}


@pytest.fixture(scope="module")
def signed_in(tmp_path_factory) -> Iterator[tuple[Served, requests.Session]]:
    with isolated(Settings(), http_port=free_port(), signin_attempts_per_minute=10_000) as settings:
        add_accounts(settings)
        served = Served(settings, tmp_path_factory.mktemp("compression") / "gunicorn.log", workers=1)
        served.start()
        try:
            client = requests.Session()
            account = ACCOUNTS["viewer"]
            client.post(served.url + "/login", data={"username": account.username, "password": account.password},
                        timeout=20)  # fmt: skip
            yield served, client
        finally:
            served.stop()


def _raw(client: requests.Session, url: str, encoding: str, **kwargs) -> requests.Response:
    """The answer as sent on the wire (requests would otherwise decode gzip and br by itself)."""
    method = "POST" if "json" in kwargs else "GET"
    reply = client.request(method, url, headers={"Accept-Encoding": encoding}, stream=True, timeout=20, **kwargs)
    reply.raw.decode_content = False
    reply.wire = reply.raw.read()  # type: ignore[attr-defined]
    return reply


def test_a_bundle_arrives_compressed_in_each_encoding_and_decodes_to_the_same_bytes(signed_in):
    served, client = signed_in
    page = client.get(served.url + "/", timeout=20).text
    bundle = served.url + re.search(r'src="(/_dash-component-suites/dash/dcc/dash_core_components\.[^"]+)"', page)[1]
    plain = _raw(client, bundle, "identity")
    assert "Content-Encoding" not in plain.headers and len(plain.wire) > 100_000
    for encoding, decode in DECODE.items():
        for _ in range(2):  # the second answer comes from the cache of compressed bundles
            packed = _raw(client, bundle, encoding)
            assert packed.headers["Content-Encoding"] == encoding
            assert len(packed.wire) < len(plain.wire) / 2
            assert decode(packed.wire) == plain.wire


def test_a_callback_answer_is_compressed_for_this_request(signed_in):
    served, client = signed_in
    callbacks = DashCallbacks(client, served.url)
    body = callbacks.body("pipeline-table.children", {"pipeline-tick.n_intervals": 1}, "pipeline-tick.n_intervals")
    plain = _raw(client, served.url + "/_dash-update-component", "identity", json=body)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    packed = _raw(client, served.url + "/_dash-update-component", "br", json=body)
    if len(plain.wire) >= 1_024:  # smaller answers are not worth compressing
        assert packed.headers["Content-Encoding"] == "br"
        assert brotli.decompress(packed.wire).count(b'"props"') == plain.wire.count(b'"props"')
