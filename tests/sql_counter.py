"""Counting the SQL statements a block of code sends, to assert that requests are N+1-free.

    with count_sql() as sql:
        response = await client.post("/graphql", json={"query": QUERY})
    assert sql.count == 3, sql.statements

Every statement Tortoise sends goes through one of a few `execute_*` methods of its database
client classes; while the block runs those methods are wrapped, on the classes (transactions
use their own client instances, and they must be counted too). Transaction control (BEGIN,
COMMIT) is not counted: the driver issues it directly.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from gateway.observability.sql import METHODS, client_classes

# Some execute_* methods delegate to others (or to super()); only the outermost call is a
# statement on the wire.
_depth: ContextVar[int] = ContextVar("sql_counter_depth", default=0)


@dataclass
class SqlLog:
    """The statements sent while the block ran, in order."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def selects(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith("SELECT")]

    def __str__(self) -> str:
        return "\n".join(f"{i}. {s}" for i, s in enumerate(self.statements, 1))


def _counting(log: SqlLog, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: BaseDBAsyncClient, query: str, *args: Any, **kwargs: Any) -> Any:
        token = _depth.set(_depth.get() + 1)
        try:
            if _depth.get() == 1:
                log.statements.append(query)
            return await method(self, query, *args, **kwargs)
        finally:
            _depth.reset(token)

    return wrapper


@contextmanager
def count_sql() -> Iterator[SqlLog]:
    """Record every statement sent by any Tortoise connection while the block runs."""
    log = SqlLog()
    patched: list[tuple[type[BaseDBAsyncClient], str, Any]] = []
    try:
        for cls in client_classes():
            for name in METHODS:
                original = cls.__dict__.get(name)
                if original is not None:
                    patched.append((cls, name, original))
                    setattr(cls, name, _counting(log, original))
        yield log
    finally:
        for cls, name, original in reversed(patched):
            setattr(cls, name, original)
