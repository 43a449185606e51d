"""Open311 documents as the spec writes them: XML, and JSON by the Spark convention (pure).

A document is a root name and a value: a dict (named children, in order) or a list (the root's items, each
named by ``ITEM_TAGS``). XML is built with ElementTree, so every text is escaped by the library, never by
hand; characters XML 1.0 cannot carry at all (control characters, lone surrogates) become U+FFFD in both
formats. JSON drops the root, as the spec's examples do.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# A list's element name → the name of each of its items.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    """``text`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean(str(value))


def _fill(element: ET.Element, value: object) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    elif value is not None:
        element.text = _scalar(value)


def to_xml(root: str, value: dict | list) -> bytes:
    """The document as UTF-8 XML with its declaration."""
    element = ET.Element(root)
    _fill(element, value)
    ET.indent(element)
    return (XML_DECLARATION + ET.tostring(element, encoding="unicode") + "\n").encode("utf-8")


def _cleaned(value: object) -> object:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def to_json(value: dict | list) -> bytes:
    """The document as UTF-8 JSON (the root dropped)."""
    return json.dumps(_cleaned(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def document(fmt: str, root: str, value: dict | list) -> bytes:
    """The document in ``fmt`` (``xml`` or ``json``)."""
    return to_xml(root, value) if fmt == "xml" else to_json(value)


def errors(status: int, description: str) -> tuple[str, list]:
    """The spec's error document: one error whose code is the HTTP status."""
    return "errors", [{"code": status, "description": description}]
