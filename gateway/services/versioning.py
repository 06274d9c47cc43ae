"""Optimistic concurrency: the one check behind REST `If-Match` and GraphQL `expectedVersion`."""

from __future__ import annotations

from gateway.core.errors import PreconditionFailed


def check_version(current: int, expected: int | None) -> None:
    """PRECONDITION_FAILED when the caller expected another version than the stored one."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"The object changed: it is at version {current}, you expected {expected}"
        )
