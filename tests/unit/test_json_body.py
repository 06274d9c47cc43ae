"""JSON bodies: compact UTF-8 as Starlette's `JSONResponse` wrote them, and never a failed
answer for a value orjson refuses."""

from __future__ import annotations

import json

from starlette.responses import JSONResponse

from gateway.http.json_body import OrjsonResponse, dumps


def test_the_bytes_are_those_of_starlettes_json_response() -> None:
    body = {"title": "Grüße ✓ \u2028", "n": [1, 2.5, None, True], "nested": {"a": ""}}
    assert OrjsonResponse(body).body == JSONResponse(body).body
    assert OrjsonResponse(body).headers["content-type"] == "application/json"


def test_what_orjson_refuses_falls_back_to_escaped_json() -> None:
    value = {"lone": "\ud800", "big": 2**70, 1: "int key"}
    encoded = dumps(value)
    assert json.loads(encoded) == {"lone": "\ud800", "big": 2**70, "1": "int key"}
    assert encoded.isascii()
