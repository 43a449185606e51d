"""The OpenAPI 3.1 document of /api/v1, built from ``api.endpoints`` (the same declarations the routes serve).

The suite runs schemathesis against the served document (tests/integration/test_api_http.py): every answer must
be documented, status and body alike, so this file and the code cannot drift apart unnoticed.
"""

from __future__ import annotations

from api.endpoints import PREFIX, Endpoint, endpoints
from api.scopes import SCOPES

OPENAPI_PATH = f"{PREFIX}/openapi.json"
DOCS_PATH = f"{PREFIX}/docs"
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
NUMBER = {"type": ["number", "null"]}
COUNT = {"type": "integer", "minimum": 0}
TEXT = {"type": "string"}
MAYBE_TEXT = {"type": ["string", "null"]}
CURSOR = {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page."}
NEXT = {"type": ["string", "null"], "description": "The next page's URL (relative); null on the last page."}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}  # fmt: skip


def _list(item: dict, **extra: dict) -> dict:
    return _object({**extra, "data": {"type": "array", "items": item}, "next_cursor": CURSOR, "next": NEXT})


RANGE = {"since": TIME, "until": TIME}
KPI = _object({"value": NUMBER, "yesterday": NUMBER,
               "by_severity": _object({s: COUNT for s in ("critical", "warning", "info")})},
              ["value", "yesterday"])  # fmt: skip
SCHEMAS = {
    "Error": _object({"error": TEXT, "message": TEXT, "parameter": TEXT}, ["error", "message"]),
    "KpisNow": _object({"as_of": MAYBE_TIME, "newest_data": MAYBE_TIME,
                        "kpis": {"type": "object", "additionalProperties": KPI}}),
    "KpisRange": _list(_object({"bucket": TIME, "complaints_new": COUNT, "pue": NUMBER}), **RANGE,
                       totals=_object({"complaints_new": COUNT, "pue": NUMBER})),
    "Districts": _object({
        "type": {"const": "FeatureCollection"}, "next_cursor": CURSOR, "next": NEXT,
        "features": {"type": "array", "items": _object({
            "type": {"const": "Feature"}, "id": TEXT,
            "properties": {"type": "object", "properties": {"id": TEXT}, "required": ["id"],
                           "additionalProperties": TEXT},
            "geometry": _object({"type": TEXT, "coordinates": {"type": "array"}})})},
    }),
    "Sensors": _list(_object({
        "id": TEXT, "kind": TEXT, "district": MAYBE_TEXT, "lat": NUMBER, "lon": NUMBER,
        "readings": {"type": "array", "items": _object({"metric": TEXT, "value": NUMBER, "unit": MAYBE_TEXT,
                                                        "at": TIME})}})),
    "History": _list(_object({"bucket": TIME, "district": MAYBE_TEXT, "device": MAYBE_TEXT, "readings": COUNT,
                              "mean": NUMBER, "low": NUMBER, "high": NUMBER}),
                     metric=TEXT, **RANGE, bucket={"type": "integer", "description": "Bucket width in seconds."}),
    "ComplaintAggregates": _list(
        _object({"district": TEXT, "category": TEXT, "hour": TIME, "opened": COUNT, "closed": COUNT},
                ["opened", "closed"]),
        by={"type": "array", "items": {"enum": ["district", "category", "hour"]}}, **RANGE),
    "Datacenters": _list(_object({"site": TEXT, "pue": NUMBER, "samples": COUNT}), **RANGE,
                         city=_object({"pue": NUMBER, "samples": COUNT})),
    "Alerts": _list(_object({
        "id": {"type": "integer"}, "severity": {"enum": ["critical", "warning", "info"]}, "rule": TEXT,
        "subject": TEXT, "summary": TEXT, "status": {"enum": ["firing", "acknowledged"]}, "value": NUMBER,
        "fired_at": MAYBE_TIME, "lat": NUMBER, "lon": NUMBER,
        "predicted": {"type": "boolean", "description": "A forecast rule's alert: raised before its level is "
                      "reached, with when it is expected."},
        "forecast_at": {**MAYBE_TIME, "description": "When the forecast was made (null unless predicted)."},
        "expected_at": {**MAYBE_TIME, "description": "When the level is expected (null unless predicted); kept "
                        "current while the alert is open."},
        "expected_earliest": {**MAYBE_TIME, "description": "The interval's earliest time at the rule's "
                              "confidence (null unless predicted)."},
        "expected_latest": {**MAYBE_TIME, "description": "The interval's latest time (null unless predicted, or "
                            "when the slowest trend never reaches the level)."}}),
        available={"type": "boolean", "description": "False until alerting has run: no alerts is then unknown."}),
}  # fmt: skip
ERRORS = {
    "400": "A parameter is malformed, unknown or repeated (`parameter` names it).",
    "401": "No API key, or an unknown or revoked one.",
    "403": "The key does not hold this resource's scope.",
    "422": "Well-formed parameters this API cannot answer (a range too long, a bucket too fine).",
    "429": "Over the key's requests per minute: wait `Retry-After` seconds.",
}
ETAG = {"description": "Validator of this body: send it back in `If-None-Match` for a 304.", "schema": TEXT}


def _error(description: str, retry: bool = False) -> dict:
    answer = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry:
        answer["headers"] = {"Retry-After": {"description": "Seconds to wait.", "required": True,
                                             "schema": {"type": "integer", "minimum": 0}}}  # fmt: skip
    return answer


def operation(endpoint: Endpoint) -> dict:
    """The OpenAPI operation of ``endpoint``."""
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{endpoint.schema}"}}}
    if endpoint.csv:
        content["text/csv"] = {"schema": TEXT}
    responses = {
        "200": {"description": "OK", "content": content,
                "headers": {"ETag": ETAG, "Link": {"description": "`<…>; rel=\"next\"` while there are more pages.",
                                                   "schema": TEXT}}},
        "304": {"description": "Not modified since the ETag in `If-None-Match`.", "headers": {"ETag": ETAG}},
    }  # fmt: skip
    responses |= {code: _error(text, retry=code == "429") for code, text in ERRORS.items()}
    # Answered by gunicorn before the request reaches the API (its limit_request_line), so not in our JSON.
    responses["414"] = {"description": "The URL is longer than the server reads (4,094 bytes in all)."}
    responses["503"] = _error(
        "The data stores do not answer, or (live data) the first snapshot is not built yet: "
        "retry after `Retry-After` seconds.",
        retry=True,
    )
    if_none_match = {"name": "If-None-Match", "in": "header", "required": False, "schema": TEXT,
                     "description": "An ETag from an earlier answer: 304 when nothing changed."}  # fmt: skip
    return {"operationId": endpoint.name, "summary": endpoint.summary, "tags": [endpoint.scope],
            "description": f"Needs the `{endpoint.scope}` scope.",
            "parameters": [p.openapi() for p in endpoint.params] + [if_none_match], "responses": responses}  # fmt: skip


def document(page_max: int, requests_per_minute: int) -> dict:
    """The whole OpenAPI 3.1 document."""
    paths = {f"{PREFIX}{e.path}": {"get": operation(e)} for e in endpoints(page_max)}
    paths[OPENAPI_PATH] = {"get": {"operationId": "openapi", "summary": "This document.", "security": [],
                                   "responses": {"200": {"description": "OpenAPI 3.1", "content": {
                                       "application/json": {"schema": {"type": "object"}}}}}}}  # fmt: skip
    paths[DOCS_PATH] = {"get": {"operationId": "reference", "summary": "This document as a page to read.",
                                "security": [], "responses": {"200": {"description": "HTML", "content": {
                                    "text/html": {"schema": TEXT}}}}}}  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "City IOC open data", "version": "1.0.0", "description": _about(requests_per_minute)},
        "tags": [{"name": scope, "description": text} for scope, text in SCOPES.items()],
        "security": [{"bearerAuth": []}, {"apiKeyHeader": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


def _about(requests_per_minute: int) -> str:
    return (
        "Read-only open data of the city's operations centre. Every request needs an API key issued by the city's "
        "IOC admins, sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`; each key holds scopes (one per "
        f"resource) and may make {requests_per_minute} requests a minute unless its own limit says otherwise. "
        "Lists come a page at a time: pass `next_cursor` back as `cursor`. Every answer carries an `ETag`; send it "
        "in `If-None-Match` to get 304 when nothing changed. Times are RFC 3339 in UTC. No personal data: no "
        "complaint text, no person's name; sensor positions are rounded."
    )
