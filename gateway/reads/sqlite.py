"""The SQLite engine for Tortoise: its own client, plus the functions `encoding` calls.

Named as the `engine` of SQLite connections in `gateway.core.db.tortoise_config`, so that every
connection Tortoise opens (app, tests, migrations, command-line jobs) can run compiled reads.
"""

from __future__ import annotations

from tortoise.backends.sqlite.client import SqliteClient

from gateway.reads.encoding import SQLITE_FUNCTIONS


class Client(SqliteClient):
    """Tortoise's SQLite client, with `encoding.SQLITE_FUNCTIONS` on its connection."""

    async def create_connection(self, with_db: bool) -> None:
        opening = self._connection is None
        await super().create_connection(with_db)
        if opening and self._connection:
            for name, (arity, function) in SQLITE_FUNCTIONS.items():
                await self._connection.create_function(name, arity, function, deterministic=True)


client_class = Client
