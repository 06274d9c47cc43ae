"""Run code once a Tortoise transaction has committed, never when it rolls back.

Tortoise has no commit hooks, and the services open their transactions with Tortoise's own
`in_transaction()`. `after_commit` therefore wraps the `commit` of the outermost transaction
object the caller holds (nested blocks are savepoints: their "commit" only releases one), and
unwraps it once it has run, so nothing outlives the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from tortoise.backends.base.client import TransactionalDBClient

logger = logging.getLogger("gateway.realtime")

_PENDING = "_switchyard_after_commit"


def _outermost(db: TransactionalDBClient) -> TransactionalDBClient:
    parent = getattr(db, "_parent", None)
    while isinstance(parent, TransactionalDBClient):
        db, parent = parent, getattr(parent, "_parent", None)
    return db


def after_commit(db: TransactionalDBClient, callback: Callable[[], None]) -> None:
    """Call `callback` right after `db`'s transaction commits (in registration order)."""
    transaction = _outermost(db)
    pending: list[Callable[[], None]] | None = getattr(transaction, _PENDING, None)
    if pending is None:
        pending = []
        setattr(transaction, _PENDING, pending)
        commit: Callable[[], Awaitable[None]] = transaction.commit

        async def commit_then_run() -> None:
            await commit()
            vars(transaction).pop("commit", None)  # back to the class's own method
            for run in pending:
                try:
                    run()
                except Exception:  # the change is committed: a listener's fault is not its own
                    logger.exception("after-commit callback failed")

        transaction.commit = commit_then_run  # type: ignore[method-assign]
    pending.append(callback)
