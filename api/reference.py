"""The human-readable API reference (``/api/v1/docs``): the OpenAPI document rendered on the server as one HTML
page, with no script and nothing fetched from elsewhere (the dashboard's CSP allows inline styles, no more)."""

from __future__ import annotations

import json

from jinja2 import Environment, PackageLoader, select_autoescape

from api.openapi import OPENAPI_PATH

_templates = Environment(loader=PackageLoader("api"), autoescape=select_autoescape(default=True))


def reference_html(doc: dict, base_url: str) -> str:
    """The page for ``doc``; ``base_url`` (this server's address) goes into the curl example."""
    paths = [(path, item) for path, item in doc["paths"].items() if item["get"].get("security") != []]
    schemas = [(name, json.dumps(schema, indent=2, ensure_ascii=False))
               for name, schema in doc["components"]["schemas"].items()]  # fmt: skip
    example = f"{base_url.rstrip('/')}{paths[0][0]}" if paths else base_url
    return _templates.get_template("reference.html").render(
        doc=doc, paths=paths, schemas=schemas, openapi_path=OPENAPI_PATH, example=example
    )
