"""OpenAPI documentation of the HTTP headers the REST API sends and accepts, derived from each
operation's shape so that it cannot drift from the routes:

- every `/api/` operation labels every answer with `RateLimit-*` (when rate limiting is on),
  and its 429 (documented by `gateway.rest.responses`) with `Retry-After`;
- an operation documenting 304 accepts `If-None-Match` and sends `ETag` (with 200 and 304);
  one accepting `If-Match` sends the new `ETag` with its 200;
- a 201 sends `Location`; a list (it takes `cursor`) sends `Link: rel="next"` when there is more.
"""

from __future__ import annotations

from typing import Any

_INTEGER = {"type": "integer", "minimum": 0}
_STRING = {"type": "string"}


def _header(description: str, schema: dict[str, Any], *, required: bool = False) -> Any:
    return {"description": description, "required": required, "schema": schema}


_RATE_LIMIT = {
    "RateLimit-Limit": _header("Points per minute for this caller.", _INTEGER),
    "RateLimit-Remaining": _header("Points left in the current window.", _INTEGER),
    "RateLimit-Reset": _header("Seconds until the window resets.", _INTEGER),
}
_RETRY_AFTER = _header("Seconds to wait before retrying.", _INTEGER, required=True)
_ETAG = _header('The strong ETag of the object: `"v<version>"`.', _STRING, required=True)
_LOCATION = _header("The path of the created object.", _STRING, required=True)
_LINK = _header('`<…>; rel="next"`: the next page, when there is one.', _STRING)
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "ETags you hold; the current one answers 304 without a body.",
    "schema": _STRING,
}


def _params(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", [])}


def _document(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses["429"].setdefault("headers", {})["Retry-After"] = _RETRY_AFTER
    params = _params(operation)
    sends: dict[str, dict[str, Any]] = {}
    if "304" in responses:
        operation.setdefault("parameters", []).append(_IF_NONE_MATCH)
        sends = {"200": {"ETag": _ETAG}, "304": {"ETag": _ETAG}}
    elif "If-Match" in params and "200" in responses:
        sends = {"200": {"ETag": _ETAG}}
    if "201" in responses:
        sends["201"] = {"Location": _LOCATION}
    if "cursor" in params:
        sends["200"] = {"Link": _LINK}
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.update(sends.get(status, {}))
        headers.update(_RATE_LIMIT)


def document_headers(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the headers described above to `schema`."""
    for path, path_item in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue  # health checks are neither rate limited nor authenticated
        for operation in path_item.values():
            _document(operation)
    return schema
