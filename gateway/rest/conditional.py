"""Conditional requests on REST single objects: strong ETags from the object's `version`.

`ETag: "v<version>"`. GET answers `If-None-Match` with 304; PATCH and DELETE turn `If-Match`
into the `expected_version` the service checks (PRECONDITION_FAILED when stale) — the same
check GraphQL's `expectedVersion` reaches, so both APIs share one rule.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Request, Response

from gateway.errors import PreconditionFailed

_TAG = re.compile(r'\s*(?:W/)?"v(\d{1,18})"\s*')


def etag(version: int) -> str:
    return f'"v{version}"'


def not_modified(request: Request, response: Response, version: int) -> Response | None:
    """Set the ETag; a 304 answer when the client's `If-None-Match` already has it."""
    tag = etag(version)
    response.headers["ETag"] = tag
    sent = request.headers.get("if-none-match")
    if sent is not None and (sent.strip() == "*" or tag in [t.strip() for t in sent.split(",")]):
        return Response(status_code=304, headers={"ETag": tag})
    return None


def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The ETag you last saw (`"v<version>"`); a stale one is 412.',
        ),
    ] = None,
) -> int | None:
    """FastAPI dependency: the version named by `If-Match`, or None without the header."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _TAG.fullmatch(if_match)
    if match is None:
        raise PreconditionFailed('If-Match must be an ETag of this API, like "v3"')
    return int(match.group(1))
