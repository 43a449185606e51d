"""A crafted client gets a clear refusal and the server keeps serving: oversized bodies, another site's POST,
non-finite numbers; every answer tells the browser what it may load and that no other site may frame it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from settings import Settings
from tests.integration.dash_http import DashCallbacks, declared_outputs
from tests.isolation import isolated
from tests.served import Served, add_accounts, free_port, signed_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Served]:
    with isolated(Settings(), http_port=free_port(), signin_attempts_per_minute=10_000,
                  map_tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png") as settings:  # fmt: skip
        add_accounts(settings)
        served = Served(settings, tmp_path_factory.mktemp("clients") / "gunicorn.log", workers=1)
        served.start()
        yield served
        served.stop()


def _signed_in(server: Served, role: str) -> requests.Session:
    return signed_in(server.url, role)


@pytest.fixture
def operator(server) -> requests.Session:
    return _signed_in(server, "operator")


def test_every_answer_says_what_may_load_and_that_nobody_may_frame_it(server, operator):
    for reply in (requests.get(server.url + "/login", timeout=10), operator.get(server.url + "/alerts", timeout=10),
                  operator.get(server.url + "/_dash-layout", timeout=10),
                  requests.get(server.url + "/_dash-layout", timeout=10)):  # fmt: skip
        policy = reply.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, reply.url
        assert "'unsafe-eval'" not in policy and "script-src 'self' 'sha256-" in policy
        assert "img-src 'self' data: blob: https://*.tile.example.org" in policy  # the configured basemap
        assert reply.headers["X-Content-Type-Options"] == "nosniff" and reply.headers["X-Frame-Options"] == "DENY"
        assert reply.headers["Referrer-Policy"] == "same-origin"


def test_an_oversized_body_is_refused_unread_and_the_server_keeps_serving(server, operator):
    huge = b'{"output": "alerts-rules.children", "pad": "' + b"x" * 2_000_000 + b'"}'
    reply = operator.post(server.url + "/_dash-update-component", data=huge,
                          headers={"Content-Type": "application/json"}, timeout=20)  # fmt: skip
    assert reply.status_code == 413 and "at most 1,048,576 bytes" in reply.json()["message"]
    form = requests.post(server.url + "/login", data={"username": "x", "password": "y" * 2_000_000}, timeout=20)
    assert form.status_code == 413
    assert operator.get(server.url + "/_dash-layout", timeout=10).status_code == 200


def test_a_post_that_is_not_json_or_names_no_callback_is_refused(server, operator):
    json_type = {"Content-Type": "application/json"}
    for body, headers in ((b"output=alerts-rules.children", {"Content-Type": "text/plain"}), (b"{not json", json_type),
                          (b'{"output": 5}', json_type), (b'{"output": "no-such-callback.children"}', json_type),
        (b"[" * 500_000, json_type)):
        reply = operator.post(server.url + "/_dash-update-component", data=body, headers=headers, timeout=10)
        assert reply.status_code == 403 and reply.json()["error"] == "forbidden", body
    assert operator.get(server.url + "/healthz", timeout=10).status_code == 200


def test_a_wall_asked_for_a_non_finite_interval_gets_a_sensible_one(server, operator):
    callbacks = DashCallbacks(operator, server.url)
    for interval in ("inf", "nan", "1e300", "-1", "x", 7):
        body = callbacks.body("wall-config.data", {"wall-query.data": {"interval": interval}}, "wall-query.data")
        reply = operator.post(server.url + "/_dash-update-component", json=body, timeout=10)
        assert reply.status_code == 200, (interval, reply.text[:200])
        assert 5_000 <= reply.json()["response"]["wall-rotate"]["interval"] <= 3_600_000


HOSTILE_VALUES = (None, -1, 1e308, True, "x" * 5_000, "<img src=x onerror=alert(1)>", {"a": [1]}, [1, [2]])


@pytest.fixture
def admin(server) -> requests.Session:
    return _signed_in(server, "admin")


def _hostile_bodies(dependency: dict) -> Iterator[dict]:
    """Bodies for one callback: the envelope bent out of shape, then each input and state given each hostile value."""
    output = dependency["output"]
    items = [*dependency["inputs"], *dependency["state"]]
    outputs = declared_outputs(output)
    if isinstance(outputs, list):  # a wildcard output is the list of the components on the page: none here
        outputs = [[] if isinstance(o["id"], dict) else o for o in outputs]
    yield {"output": output, "outputs": {"id": "x", "property": "y"}, "inputs": [], "state": []}
    yield {"output": output}
    yield {"output": output, "inputs": "x", "state": 5, "changedPropIds": "x"}
    yield {"output": output, "inputs": [None] * 3, "state": [[{}]], "outputs": 1, "changedPropIds": [5]}
    yield {"output": output, "inputs": [], "state": [], "outputs": [], "changedPropIds": []}
    for position in range(len(items)):
        for value in HOSTILE_VALUES:
            filled = [{**item, "value": value if n == position else None} for n, item in enumerate(items)]
            yield {"output": output, "outputs": outputs,
                   "inputs": filled[: len(dependency["inputs"])], "state": filled[len(dependency["inputs"]):],
                   "changedPropIds": [f"{items[position]['id']}.{items[position]['property']}"]}  # fmt: skip


def test_no_callback_answers_a_crafted_body_with_a_server_error(server, admin):
    dependencies = DashCallbacks(admin, server.url).dependencies
    failures = []
    for dependency in dependencies:
        for body in _hostile_bodies(dependency):
            reply = admin.post(server.url + "/_dash-update-component", json=body, timeout=20)
            if reply.status_code >= 500:
                failures.append((dependency["output"], json.dumps(body)[:160], reply.status_code))
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(map(str, failures))
    assert admin.get(server.url + "/healthz", timeout=10).status_code == 200
