"""SQL statements and their time, per request, counted at the database client.

Every statement Tortoise sends goes through one of a few `execute_*` methods of its client
classes (transactions use client classes of their own). `install()` wraps those methods once,
for the process: the wrapper adds to the `SqlTally` of the request being served, found through a
context variable, and costs one `ContextVar.get` outside a request (the webhook worker, the
hub). Methods that delegate to one another are counted once, at the outermost call, as in
tests/sql_counter.py. Transaction control (BEGIN, COMMIT) is sent by the driver directly and
is not counted.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, Final

from tortoise.backends.base.client import BaseDBAsyncClient

METHODS: Final = (
    "execute_insert",
    "execute_query",
    "execute_query_dict",
    "execute_query_dict_with_affected",
    "execute_many",
    "execute_script",
)
_MARK: Final = "__switchyard_tally__"


@dataclass(slots=True)
class SqlTally:
    """The statements one request sent and the seconds they took (concurrent ones add up)."""

    count: int = 0
    seconds: float = 0.0


_tally: ContextVar[SqlTally | None] = ContextVar("sql_tally", default=None)
_nested: ContextVar[bool] = ContextVar("sql_tally_nested", default=False)


def start() -> tuple[SqlTally, Token[SqlTally | None]]:
    """Open the tally of the request being served (in its task's context)."""
    tally = SqlTally()
    return tally, _tally.set(tally)


def stop(token: Token[SqlTally | None]) -> None:
    """Close it (statements the request's leftover tasks send are not counted)."""
    _tally.reset(token)


def _counted(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def wrapper(self: BaseDBAsyncClient, *args: Any, **kwargs: Any) -> Any:
        tally = _tally.get()
        if tally is None or _nested.get():
            return await method(self, *args, **kwargs)
        token = _nested.set(True)
        began = time.perf_counter()
        try:
            return await method(self, *args, **kwargs)
        finally:
            tally.count += 1
            tally.seconds += time.perf_counter() - began
            _nested.reset(token)

    setattr(wrapper, _MARK, True)
    return wrapper


def client_classes() -> list[type[BaseDBAsyncClient]]:
    """Every loaded Tortoise client class (tests/sql_counter.py wraps the same ones)."""
    found: list[type[BaseDBAsyncClient]] = []
    pending: list[type[BaseDBAsyncClient]] = [BaseDBAsyncClient]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def install() -> None:
    """Wrap every loaded client class's `execute_*` methods, once (idempotent). The engines
    the gateway configures are imported first, so their classes (and their transaction
    wrappers) are among those wrapped."""
    import gateway.core.postgres
    import gateway.reads.sqlite  # noqa: F401

    for cls in client_classes():
        for name in METHODS:
            original = cls.__dict__.get(name)
            if original is not None and not getattr(original, _MARK, False):
                setattr(cls, name, _counted(original))
