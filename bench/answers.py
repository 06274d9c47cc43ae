"""Single requests outside the load: signing in, and proving the floor answers like the API."""

from __future__ import annotations

import difflib
import urllib.parse
import urllib.request
from typing import Any

import orjson

from bench.workloads import WORKLOADS, Call


def fetch(url: str, call: Call, headers: dict[str, str]) -> Any:
    req = urllib.request.Request(url, call.body or None, headers, method=call.method)
    with urllib.request.urlopen(req, timeout=30) as answer:
        return orjson.loads(answer.read())


def sign_in(base: str, password: str) -> str:
    form = urllib.parse.urlencode({"username": "demo", "password": password}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", form, timeout=30) as answer:
        return str(orjson.loads(answer.read())["access_token"])


def comparable(body: Any) -> Any:
    """The answer with cursor values reduced to their presence: their signatures differ."""
    if isinstance(body, dict) and "next_cursor" in body:
        return body | {"next_cursor": body["next_cursor"] is not None}
    return body


def check_same(server: str, floor: str, headers: dict[str, str]) -> None:
    """Stop, with a diff, unless the floor gives every workload the API's answer."""
    for w in WORKLOADS:
        ours = comparable(fetch(server + w.server.path, w.server, headers))
        theirs = comparable(fetch(floor + w.floor.path, w.floor, headers))
        if ours != theirs:
            diff = difflib.unified_diff(_lines(ours), _lines(theirs), "api", "floor", n=2)
            shown = "\n".join(list(diff)[:40])
            raise RuntimeError(f"{w.name} {w.form}: the floor answers otherwise\n{shown}")


def _lines(body: Any) -> list[str]:
    return (
        orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode().split("\n")
    )
