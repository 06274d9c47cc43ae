"""The test database's chores: emptying every table before a test, and snapshots of the rows a
costly setup made, put back in a few statements instead of being made again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import Tortoise
from tortoise.transactions import in_transaction

# Children first, so plain DELETEs respect the foreign keys on SQLite.
TABLES = (
    "webhook_deliveries",
    "events",
    "comments",
    "issue_labels",
    "issues",
    "labels",
    "projects",
    "invitations",
    "webhooks",
    "memberships",
    "workspaces",
    "personal_access_tokens",
    "refresh_tokens",
    "users",
    "idempotency_keys",
)


def _postgres() -> bool:
    return bool(Tortoise.get_connection("default").schema_generator.DIALECT == "postgres")


async def empty_tables() -> None:
    """Every table empty (the migration record stays); on PostgreSQL ids start again from 1, as
    RESTART IDENTITY would."""
    # DELETE, not TRUNCATE: on these near-empty tables TRUNCATE costs ~240 ms a test on
    # PostgreSQL (it rewrites every table file), DELETE under 10 ms.
    script = "".join(f'DELETE FROM "{table}";' for table in TABLES)
    if _postgres():
        script += "".join(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false);" for table in TABLES
        )
    await Tortoise.get_connection("default").execute_script(script)


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table at one moment, ids included."""

    rows: dict[str, list[dict[str, Any]]]

    @classmethod
    async def take(cls) -> Snapshot:
        connection = Tortoise.get_connection("default")
        rows = {
            table: await connection.execute_query_dict(f'SELECT * FROM "{table}"')
            for table in TABLES
        }
        return cls({table: found for table, found in rows.items() if found})

    async def restore(self) -> None:
        """The rows back into empty tables (parents first), in one transaction; on PostgreSQL
        each id sequence then continues after the largest id, as if the rows had been made."""
        postgres = _postgres()
        async with in_transaction() as connection:
            for table in reversed(TABLES):
                if table not in self.rows:
                    continue
                columns = list(self.rows[table][0])
                marks = [f"${n}" if postgres else "?" for n in range(1, len(columns) + 1)]
                names = ", ".join(f'"{column}"' for column in columns)
                await connection.execute_many(
                    f'INSERT INTO "{table}" ({names}) VALUES ({", ".join(marks)})',
                    [list(row.values()) for row in self.rows[table]],
                )
                if postgres:
                    await connection.execute_query(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id))"
                        f' FROM "{table}"'
                    )
