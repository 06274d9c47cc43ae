"""SQL that writes the API's encoded values: global ids, timestamps, dates, keyset cursors.

The compiled reads have the database build the response JSON, so these values must come out of
SQL byte-identical to what Python writes (`gateway.core.ids.to_global_id`, the `Z` timestamps of
`schema.scalars`, `gateway.core.paging`'s cursors and signatures). PostgreSQL builds them in plain
SQL; SQLite has no base64, so its SQL calls application functions (`SQLITE_FUNCTIONS`,
installed on every connection by `gateway.reads.sqlite`) that run those very Python functions.

Only constants from code are inlined (a node type, a key kind); values are bind parameters or
column expressions handed in by the compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from gateway.core.ids import NODE_TYPES, to_global_id
from gateway.core.paging import KeyKind, encode_cursor, key_kind, signature_of

__all__ = [
    "SQLITE_FUNCTIONS",
    "Dialect",
    "KeyKind",
    "api_timestamp",
    "cursor_sql",
    "date_sql",
    "key_kind",
    "node_id_sql",
    "signature_sql",
    "timestamp_sql",
]

Dialect = Literal["postgres", "sqlite"]


def api_timestamp(value: datetime) -> str:
    """A timestamp as both APIs write it: ISO 8601 in UTC with `Z`, microseconds if any."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _base64url(bytes_sql: str) -> str:
    # PostgreSQL's base64 breaks lines every 76 characters: translate drops the newlines.
    return f"rtrim(translate(encode({bytes_sql}, 'base64'), E'+/\\n', '-_'), '=')"


def _utf8(text_sql: str) -> str:
    return f"convert_to({text_sql}, 'UTF8')"


def node_id_sql(dialect: Dialect, type_name: str, pk_sql: str) -> str:
    """`to_global_id(type_name, pk)`; NULL for a NULL pk."""
    assert type_name in NODE_TYPES, type_name  # inlined as a literal: a constant from code only
    if dialect == "sqlite":
        return f"sy_node_id('{type_name}', {pk_sql})"
    return _base64url(_utf8(f"'{type_name}:' || CAST({pk_sql} AS text)"))


def timestamp_sql(dialect: Dialect, column_sql: str) -> str:
    """`api_timestamp(column)` of a `timestamptz` column; NULL stays NULL."""
    if dialect == "sqlite":
        return f"sy_time({column_sql})"
    utc = f"({column_sql} AT TIME ZONE 'UTC')"
    # Python's isoformat leaves the fraction out when it is zero.
    whole = f"date_trunc('second', {utc}) = {utc}"
    seconds, microseconds = (
        """'YYYY-MM-DD"T"HH24:MI:SS"Z"'""",
        """'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'""",
    )
    return f"to_char({utc}, CASE WHEN {whole} THEN {seconds} ELSE {microseconds} END)"


def date_sql(dialect: Dialect, column_sql: str) -> str:
    """`date.isoformat()` of a DATE column; NULL stays NULL."""
    if dialect == "sqlite":
        return f"sy_date({column_sql})"
    return f"to_char({column_sql}, 'YYYY-MM-DD')"


def _token_sql(kind: KeyKind, column_sql: str) -> str:
    if kind is KeyKind.integer:
        return f"CAST({column_sql} AS text)"
    if kind is KeyKind.text:
        return f"encode({_utf8(column_sql)}, 'hex')"
    # extract(epoch) is numeric since PostgreSQL 14, so the microseconds are exact.
    return f"CAST(CAST(extract(epoch FROM {column_sql}) * 1000000 AS bigint) AS text)"


def cursor_sql(dialect: Dialect, signature_sql: str, keys: Sequence[tuple[str, KeyKind]]) -> str:
    """`encode_cursor(signature, values)` for the sort-key columns `keys` (SQL, kind), most
    significant first; `signature_sql` is the bind parameter carrying `cursor_signature(...)`."""
    if dialect == "sqlite":
        kinds = "".join(KeyKind(kind).value for _, kind in keys)
        columns = "".join(f", {column}" for column, _ in keys)
        return f"sy_cursor({signature_sql}, '{kinds}'{columns})"
    parts = [f"CAST({signature_sql} AS text)", *(_token_sql(kind, c) for c, kind in keys)]
    return _base64url(_utf8(" || '.' || ".join(parts)))


def signature_sql(dialect: Dialect, text_sql: str, parent_sql: str) -> str:
    """`cursor_signature(model, ordering, scope_prefix + str(parent))` for a list bound to its
    parent's id: `text_sql` is the bind parameter carrying `signature_text(model, ordering,
    scope_prefix)`, `parent_sql` the parent's id column."""
    if dialect == "sqlite":
        return f"sy_signature({text_sql}, {parent_sql})"
    text = f"CAST({text_sql} AS text) || CAST({parent_sql} AS text)"
    return _base64url(f"substring(sha256({_utf8(text)}) FROM 1 FOR 6)")


# SQLite's side: what its connection hands these functions, back to what Python would format.


def _stored_datetime(stored: object) -> datetime:
    # Tortoise stores `datetime.isoformat(" ")` (sqlite3 adapter); a naive one is UTC.
    value = datetime.fromisoformat(stored)  # type: ignore[arg-type]  # always text on SQLite
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _sy_node_id(type_name: str, pk: int | None) -> str | None:
    return None if pk is None else to_global_id(type_name, pk)


def _sy_time(stored: str | None) -> str | None:
    return None if stored is None else api_timestamp(_stored_datetime(stored))


def _sy_date(stored: str | None) -> str | None:
    # Stored as `date.isoformat()`; parsed anyway, so the text is what Python would write.
    return None if stored is None else date.fromisoformat(stored).isoformat()


def _sy_signature(text: str, parent: int) -> str:
    return signature_of(f"{text}{parent}")


def _sy_cursor(signature: str, kinds: str, *stored: object) -> str:
    values = [
        _stored_datetime(value) if kind == KeyKind.timestamp else value
        for kind, value in zip(kinds, stored, strict=True)
    ]
    return encode_cursor(signature, values)


SQLITE_FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "sy_node_id": (2, _sy_node_id),
    "sy_time": (1, _sy_time),
    "sy_date": (1, _sy_date),
    "sy_cursor": (-1, _sy_cursor),
    "sy_signature": (2, _sy_signature),
}
"""name → (argument count, -1 for any; implementation), all deterministic."""
