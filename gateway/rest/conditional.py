"""Conditional requests on REST single objects: strong ETags from the object's `version`.

`ETag: "v<version>"`. GET answers `If-None-Match` with 304; PATCH and DELETE turn `If-Match`
into the `expected_version` the service checks (PRECONDITION_FAILED when stale) — the same
check GraphQL's `expectedVersion` reaches, so both APIs share one rule. A malformed `If-Match`
is VALIDATION_FAILED.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

from gateway.core.validation import not_nullable

# One source for the OpenAPI document and the check: a malformed `If-Match` is 422 like any
# other bad input, found together with the body's errors (before any 412).
IF_MATCH_PATTERN = r'^(\*|(W/)?"v[0-9]{1,18}")$'
_VERSION = re.compile(r'"v([0-9]+)"$')


def etag(version: int) -> str:
    return f'"v{version}"'


def names(if_none_match: str | None, tag: str) -> bool:
    """Does an `If-None-Match` value name `tag` (or `*`)?"""
    if if_none_match is None:
        return False
    return if_none_match.strip() == "*" or tag in [t.strip() for t in if_none_match.split(",")]


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            pattern=IF_MATCH_PATTERN,
            json_schema_extra=not_nullable,
            description='The ETag you last saw (`"v<version>"`); a stale one is 412.',
        ),
    ] = None,
) -> int | None:
    """FastAPI dependency: the version named by `If-Match` (already validated against
    `IF_MATCH_PATTERN`), or None without the header or with `*`."""
    match = None if if_match is None else _VERSION.search(if_match)
    return None if match is None else int(match.group(1))


ExpectedVersion = Annotated[int | None, Depends(expected_version)]
"""A PATCH or DELETE parameter: the version `If-Match` names, None without one."""
