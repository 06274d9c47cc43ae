"""Running a compiled read: one statement, one row, one JSON text handed on as bytes."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise import connections
from tortoise.exceptions import OperationalError

from gateway.reads.sql import CannotCompile


async def fetch_json(sql: str, values: Sequence[object]) -> bytes | None:
    """The JSON text the statement selects, or None when it found nothing (or NULL).
    Through Tortoise's client, so transactions, pooling and statement counting still apply.

    SQLite parses nesting with a bounded stack: a selection nested deeply enough is refused
    there ("parser stack overflow"), which is `CannotCompile` (the resolvers answer it)."""
    try:
        _, rows = await connections.get("default").execute_query(sql, list(values))
    except OperationalError as exc:
        if "parser stack overflow" in str(exc):
            raise CannotCompile("nested too deeply for SQLite's parser") from exc
        raise
    if not rows:
        return None
    text = rows[0][0]
    return None if text is None else str(text).encode()
