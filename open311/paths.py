"""Which Open311 resource a path under ``/open311/`` names, and in which format (pure).

The spec's resources carry their format as an extension (``services.xml``, ``requests/SZ1.json``); the
discovery document sits beside the versioned endpoint (``/open311/discovery.xml``), as the Service Discovery
page asks. Anything else is a ``NotFound`` in the spec's error format.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FORMATS = ("xml", "json")
DEFAULT_FORMAT = "xml"  # the spec's required format: what an error is written in when the path names none
MAX_PATH = 600  # a request id is at most 256 characters (docs/EVENTS.md); the rest is the resource's name
RESOURCES = "services.xml|json, services/<code>.xml|json, requests.xml|json, requests/<id>.xml|json"


class Resource(StrEnum):
    DISCOVERY = "discovery"
    SERVICES = "services"
    DEFINITION = "definition"
    REQUESTS = "requests"
    REQUEST = "request"


class Open311Error(Exception):
    """An answer in the spec's error format: HTTP ``status`` and a description meant for the user."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.headers = status, description, headers or {}


@dataclass(frozen=True, slots=True)
class Route:
    """A parsed path: the resource, its format, and the code or id it names (if any)."""

    resource: Resource
    fmt: str
    ident: str | None = None


def format_of(path: str) -> str:
    """The format a path asks for, or the default: which format an error about it is written in."""
    ext = path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    return ext if ext in FORMATS else DEFAULT_FORMAT


def route(path: str) -> Route:
    """``path`` after ``/open311/`` → its ``Route``; ``Open311Error(404)`` saying what exists otherwise."""
    if len(path) > MAX_PATH:
        raise Open311Error(404, "No such Open311 resource (the path is too long).")
    head, _, tail = path.partition("/")
    if head == "v2":
        return _v2(tail)
    if path == "discovery" or path.startswith("discovery."):
        name, fmt = _split(path)
        if name == "discovery":
            return Route(Resource.DISCOVERY, fmt)
    raise Open311Error(
        404,
        f"No such Open311 resource. GeoReport v2 is at /open311/v2/ ({RESOURCES}); "
        "the discovery document at /open311/discovery.xml|json.",
    )


def _v2(tail: str) -> Route:
    collection, slash, rest = tail.partition("/")
    if collection and not slash:
        name, fmt = _split(collection)
        if name in ("services", "requests"):
            return Route(Resource(name), fmt)
    elif collection in ("services", "requests") and rest:
        ident, fmt = _split(rest)
        if ident:
            return Route(Resource.DEFINITION if collection == "services" else Resource.REQUEST, fmt, ident)
    elif collection == "tokens":
        raise Open311Error(404, "No tokens: this Open311 server takes no new requests, so it issues none.")
    raise Open311Error(404, f"No such GeoReport v2 resource. It has {RESOURCES}.")


def _split(name: str) -> tuple[str, str]:
    """``services.json`` → (``services``, ``json``); a missing or unknown extension is a 404 naming the two."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        raise Open311Error(404, f"Name the format: add .xml or .json to {name[:80]!r}.")
    if ext.lower() not in FORMATS:
        raise Open311Error(404, f"Unknown format {ext[:20]!r}: this server answers in .xml and .json.")
    return stem, ext.lower()
