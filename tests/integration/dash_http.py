"""Dash callback requests made by hand, as a crafted client would: read ``/_dash-dependencies``, then POST the
very body the browser posts to ``/_dash-update-component`` for one callback, with the values we choose."""

from __future__ import annotations

import json
from collections.abc import Mapping

import requests


def declared_outputs(key: str) -> list[dict] | dict:
    """What the browser sends as ``outputs`` for the callback with this output key (a list when it has several)."""
    outputs = _outputs(key)
    return outputs if key.startswith("..") else outputs[0]


def _outputs(key: str) -> list[dict]:
    """``..a.children...b.data@x..`` → ``[{"id": "a", "property": "children"}, {"id": "b", "property": "data@x"}]``."""
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs = []
    for part in parts:
        component, _, prop = part.rpartition(".")
        outputs.append({"id": json.loads(component) if component.startswith("{") else component, "property": prop})
    return outputs


def _name(item: Mapping) -> str:
    return f"{item['id']}.{item['property']}"


class DashCallbacks:
    """The callbacks a signed-in session sees, and request bodies for them."""

    def __init__(self, session: requests.Session, url: str) -> None:
        reply = session.get(url + "/_dash-dependencies", timeout=10)
        reply.raise_for_status()
        self.dependencies = reply.json()

    def body(self, output_part: str, values: Mapping[str, object], triggered: str) -> dict:
        """The body for the callback whose output key contains ``output_part``.

        ``values`` maps ``"<id>.<property>"`` of inputs and states to their value (for a pattern input with ALL,
        the list of ``{"id": {...}, "property": ..., "value": ...}`` the browser would send); ``triggered`` is the
        changed prop id, as the browser writes it.
        """
        matches = [d for d in self.dependencies if output_part in d["output"]]
        assert len(matches) == 1, f"{len(matches)} callbacks write {output_part}"
        dep = matches[0]

        def fill(items: list[dict]) -> list:
            return [values.get(_name(i)) if "ALL" in str(i["id"]) else {**i, "value": values.get(_name(i))}
                    for i in items]  # fmt: skip

        return {"output": dep["output"], "outputs": declared_outputs(dep["output"]),
                "inputs": fill(dep["inputs"]), "state": fill(dep["state"]), "changedPropIds": [triggered]}  # fmt: skip


def pattern(type_: str, key: str, value: str, prop: str = "n_clicks", clicks: int = 1) -> tuple[str, list, str]:
    """A pattern id clicked once: its ALL-input name, the list to send, and the changed prop id."""
    component = {key: value, "type": type_}
    wildcard = json.dumps({key: ["ALL"], "type": type_}, separators=(",", ":"), sort_keys=True)
    changed = json.dumps(component, separators=(",", ":"), sort_keys=True) + f".{prop}"
    return f"{wildcard}.{prop}", [{"id": component, "property": prop, "value": clicks}], changed
