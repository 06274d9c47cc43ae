"""Keyset paging for repositories: every list in both APIs pages through `keyset_page`.

A page is "the `limit` rows after (or before) this position in a total order", where the
position is the previous row's sort-key values. The database seeks straight to it through an
index, so page 1000 costs what page 1 costs (no OFFSET), and rows inserted or deleted between two
requests neither repeat nor skip rows.

Framework-free: it raises `ValidationFailed` (field `first`, `last` or `cursor`), which both APIs
render, and knows nothing of HTTP or GraphQL. See history/adr/0005-keyset-paging-and-global-ids.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, TypedDict

from pypika_tortoise.terms import Tuple, ValueWrapper
from tortoise import fields as tf
from tortoise.expressions import Q, ResolveContext
from tortoise.fields.relational import RelationalField
from tortoise.models import Model
from tortoise.query_utils import QueryModifier
from tortoise.queryset import QuerySet

from gateway.core.errors import ValidationFailed

DEFAULT_LIMIT = 30
MAX_LIMIT = 100
# Real cursors are under 200 characters; longer input is refused before any decoding.
MAX_CURSOR_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column of an ordering: a non-null column of the listed model itself."""

    field: str
    descending: bool = False


Ordering = tuple[SortKey, ...]
"""Sort keys, most significant first, all in one direction; the last must be unique (`id`)."""


def order(*spec: str) -> Ordering:
    """Shorthand for an ordering: `order("-created_at", "-id")`; `-` means descending. Give
    every key the same direction: one index on the keys then serves both directions."""
    return tuple(SortKey(s.removeprefix("-"), s.startswith("-")) for s in spec)


class PageArgs(TypedDict, total=False):
    """The paging arguments as services pass them through: `keyset_page(qs, o, **args, ...)`."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows, in the ordering's order, each with the cursor of its position."""

    rows: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    count_total: Callable[[], Awaitable[int]] = field(repr=False, compare=False)

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None

    @property
    def next_cursor(self) -> str | None:
        """The cursor to continue forward from, or None on the last page (REST's field)."""
        return self.end_cursor if self.has_next else None

    async def total_count(self) -> int:
        """Rows in the whole filtered list: one COUNT statement, run only when asked for."""
        return await self.count_total()


Decoder = Callable[[object], object]


class KeyKind(StrEnum):
    """How a cursor writes one sort-key value (v2, see `encode_cursor`)."""

    integer = "i"
    text = "t"
    timestamp = "d"


@dataclass(frozen=True, slots=True)
class _Key:
    field: str
    descending: bool
    kind: KeyKind
    decode: Decoder
    target: tf.Field[Any]
    column: str


def _datetime(value: object) -> object:
    if not isinstance(value, datetime) or value.tzinfo is None:  # stored timestamps are aware
        raise ValueError(value)
    return value


def key_kind(f: tf.Field[Any]) -> KeyKind:
    """The kind of a sort-key column; ValueError for a column no cursor can hold."""
    if isinstance(f, tf.IntField):  # Small/Big/IntEnum too
        return KeyKind.integer
    if isinstance(f, tf.CharField | tf.TextField):  # CharEnum too
        return KeyKind.text
    if isinstance(f, tf.DatetimeField):
        return KeyKind.timestamp
    raise ValueError(f"cannot page on a {type(f).__name__} column")


def _decoder_for(f: tf.Field[Any]) -> Decoder:
    """How to check a cursor's value (an int, str or datetime per `key_kind`) and turn it into
    what the column compares against (an enum column's enum), refusing anything the database
    would choke on: that would be a 500 instead of a 422."""
    enum_type: type[Enum] | None = getattr(f, "enum_type", None)
    kind = key_kind(f)
    if kind is KeyKind.integer:
        low, high = f.constraints["ge"], f.constraints["le"]

        def integer(value: object) -> object:
            if type(value) is not int or not low <= value <= high:
                raise ValueError(value)
            return enum_type(value) if enum_type else value

        return integer
    if kind is KeyKind.text:

        def text(value: object) -> object:
            # PostgreSQL refuses NUL in text; a lone surrogate cannot even be encoded.
            if not isinstance(value, str) or "\x00" in value:
                raise ValueError(value)
            value.encode()
            return enum_type(value) if enum_type else value

        return text
    return _datetime


_plans: dict[tuple[type[Model], Ordering], tuple[_Key, ...]] = {}


def ordering_plan(model: type[Model], ordering: Ordering) -> tuple[_Key, ...]:
    """Checks an ordering once per model (these are programming errors, hence ValueError)."""
    if (model, ordering) in _plans:
        return _plans[model, ordering]
    if len({k.descending for k in ordering}) != 1:
        # One direction lets one B-tree index serve the ordering both ways, and the position
        # compare as one row; mixed directions would need an OR that scans runs of ties.
        raise ValueError("an ordering needs keys, all ascending or all descending")
    keys: list[_Key] = []
    for key in ordering:
        f = model._meta.fields_map.get(key.field)
        # NULLs sort differently on SQLite and PostgreSQL and never compare, so they would
        # drop rows; a column of a joined table is not in the index that serves the list.
        if f is None or isinstance(f, RelationalField) or f.null:
            raise ValueError(f"sort key {key.field!r} is not a non-null {model.__name__} column")
        column = model._meta.fields_db_projection[key.field]
        keys.append(_Key(key.field, key.descending, key_kind(f), _decoder_for(f), f, column))
    if not (keys[-1].target.pk or keys[-1].target.unique):
        raise ValueError(f"the last sort key ({keys[-1].field!r}) must be unique, e.g. id")
    _plans[model, ordering] = tuple(keys)
    return _plans[model, ordering]


class Signature(str):
    """A cursor signature that also knows the one its list's cursors carried before v2."""

    legacy: str


def signature_text(model: type[Model], ordering: Ordering, scope: str) -> str:
    """What a list's cursor signature digests; `scope` comes last, so SQL can append to it."""
    spec = ",".join(("-" if k.descending else "+") + k.field for k in ordering)
    return f"{model._meta.db_table}|{spec}|{scope}"


def signature_of(text: str) -> Signature:
    """The signature of a `signature_text`: base64url of its SHA-256's first 6 bytes, a digest
    PostgreSQL has built in (`gateway.reads.encoding.signature_sql`)."""
    digest = hashlib.sha256(text.encode()).digest()[:6]
    signature = Signature(base64.urlsafe_b64encode(digest).decode())
    legacy = hashlib.blake2b(text.encode(), digest_size=6).digest()
    signature.legacy = base64.urlsafe_b64encode(legacy).decode()
    return signature


def cursor_signature(model: type[Model], ordering: Ordering, scope: str) -> Signature:
    """Names the list a cursor belongs to, so one minted elsewhere is refused rather than
    silently starting at a meaningless position. Not a secret: visibility is enforced by the
    queryset's own filters, a forged cursor only moves within rows the caller may see."""
    return signature_of(signature_text(model, ordering, scope))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_INTEGER = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def _token(value: object) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, datetime):
        return str((value - _EPOCH) // _MICROSECOND)
    if isinstance(value, str):
        return value.encode().hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def encode_cursor(signature: str, values: Sequence[object]) -> str:
    """The cursor of a position: base64url, unpadded, of `signature` then `.value` per sort key,
    an int in decimal, a str as the lower-case hex of its UTF-8, a datetime as microseconds since
    the Unix epoch. Plain enough for SQL to build too (`gateway.reads.encoding.cursor_sql`)."""
    raw = ".".join([signature, *map(_token, values)])
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _read_token(kind: KeyKind, token: str) -> object:
    if kind is KeyKind.text:
        if not _HEX.fullmatch(token):
            raise ValueError(token)
        return bytes.fromhex(token).decode()
    if not _INTEGER.fullmatch(token):
        raise ValueError(token)
    number = int(token)
    return number if kind is KeyKind.integer else _EPOCH + number * _MICROSECOND


def _read_legacy(kind: KeyKind, value: object) -> object:
    """A value of a cursor minted before v2: `[signature, *values]` as JSON, ISO timestamps."""
    if kind is KeyKind.timestamp:
        return datetime.fromisoformat(value)  # type: ignore[arg-type]  # TypeError if not a str
    return value


def _invalid() -> ValidationFailed:
    return ValidationFailed.on("cursor", "is not a valid cursor")


def _split_cursor(cursor: str, keys: tuple[_Key, ...]) -> tuple[bool, list[Any]]:
    """Whether a cursor is legacy, and its parts: the signature then one token per key."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise _invalid()
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        legacy = raw.startswith(b"[")
        data = json.loads(raw) if legacy else raw.decode("ascii").split(".")
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise _invalid() from exc
    if not isinstance(data, list) or len(data) != len(keys) + 1:
        raise _invalid()
    return legacy, data


def _cursor_values(keys: tuple[_Key, ...], legacy: bool, tokens: list[Any]) -> list[object]:
    read = _read_legacy if legacy else _read_token
    try:
        return [k.decode(read(k.kind, value)) for k, value in zip(keys, tokens, strict=True)]
    except (ValueError, TypeError, OverflowError) as exc:
        raise _invalid() from exc


def decode_cursor(cursor: str, keys: tuple[_Key, ...], signature: str) -> list[object]:
    """A cursor's sort-key values, as the columns compare (`keys` from `ordering_plan`); v2 and
    legacy cursors alike. VALIDATION_FAILED (field `cursor`) for a malformed one or one minted
    for another list than `signature` (a legacy one must carry `cursor_signature(...).legacy`)."""
    legacy, data = _split_cursor(cursor, keys)
    if data[0] != (getattr(signature, "legacy", None) if legacy else signature):
        raise ValidationFailed.on(
            "cursor", "belongs to another list, filter or ordering; start again without it"
        )
    return _cursor_values(keys, legacy, data[1:])


def unsigned_cursor(cursor: str, keys: tuple[_Key, ...]) -> tuple[str | None, list[object]]:
    """A v2 cursor's signature and sort-key values, the signature left for the caller to check
    (a list bound to its parent's id, checked by SQL once the parent is found: see
    `gateway.reads.roots.compile_root`); None for a legacy cursor's signature.
    VALIDATION_FAILED (field `cursor`) for a malformed one."""
    legacy, data = _split_cursor(cursor, keys)
    values = _cursor_values(keys, legacy, data[1:])
    return (None if legacy else str(data[0])), values


def checked_limit(name: str, value: int) -> int:
    if type(value) is not int or not 1 <= value <= MAX_LIMIT:
        raise ValidationFailed.on(name, f"must be between 1 and {MAX_LIMIT}")
    return value


def page_size(first: int | None, last: int | None) -> tuple[int, bool]:
    """How many rows a page holds and whether it pages backward (`last`); neither means the
    first 30. VALIDATION_FAILED for both, or a size outside 1..100."""
    if first is not None and last is not None:
        raise ValidationFailed.on("last", "pass either first or last, not both")
    if last is not None:
        return checked_limit("last", last), True
    return checked_limit("first", DEFAULT_LIMIT if first is None else first), False


class _RowBeyond(Q):
    """`(k, id) > (v, i)` (or `<`): one row-value comparison, which PostgreSQL and SQLite answer
    with a single index range seek, even deep inside a run of ties on `k`. Tortoise has no row
    values, so this Q hands its resolver a ready criterion (Tortoise 1.x `Q.resolve` protocol)."""

    def __init__(self, columns: list[str], values: list[Any], *, greater: bool) -> None:
        super().__init__()
        self.row = (columns, values, greater)

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        columns, values, greater = self.row
        left = Tuple(*(resolve_context.table[c] for c in columns))
        right = Tuple(*map(ValueWrapper, values))
        return QueryModifier(where_criterion=left > right if greater else left < right)


def _beyond(
    model: type[Model], keys: tuple[_Key, ...], values: list[object], *, forward: bool
) -> Q:
    """Rows strictly after (`forward`) or before a position: for (k, id) ascending after (v, i),
    `(k, id) > (v, i)`, i.e. `k > v OR (k = v AND id > i)`, as one row comparison."""
    db_values = [k.target.to_db_value(v, model) for k, v in zip(keys, values, strict=True)]
    return _RowBeyond([k.column for k in keys], db_values, greater=keys[0].descending != forward)


def keyset_bound(
    queryset: QuerySet[Any], ordering: Ordering, cursor: str, signature: str, *, forward: bool
) -> QuerySet[Any]:
    """`queryset` narrowed to the rows strictly after (`forward`) or before `cursor`'s
    position; VALIDATION_FAILED (field `cursor`) for a malformed cursor or one minted for
    another list (`signature`, see `cursor_signature`)."""
    model = queryset.model
    keys = ordering_plan(model, ordering)
    return queryset.filter(
        _beyond(model, keys, decode_cursor(cursor, keys, signature), forward=forward)
    )


async def keyset_page(
    queryset: QuerySet[Any],
    ordering: Ordering,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    fields: Sequence[str],
    scope: str = "",
) -> Page:
    """One page of `queryset` (filtered, not ordered or limited) in `ordering`.

    `first`/`after` page forward, `last`/`before` backward (Relay semantics; neither means
    `first=30`); `after` and `before` may be combined. Rows are `.values(*fields)` dicts (joined
    names like `author__username` allowed) plus the sort keys; datetimes come back aware (UTC),
    enum columns as their enum. `scope` names what else the list depends on (e.g. the canonical
    filter), so that a cursor minted under another filter is refused.

    One SELECT with `LIMIT n + 1`, the extra row telling whether more follow. Paging forward,
    `has_previous` is whether `after` was given (its row preceded this page; Relay leaves this
    flag to what is cheap to know); paging backward, `has_next` likewise for `before`.
    """
    model = queryset.model
    keys = ordering_plan(model, ordering)
    limit, backward = page_size(first, last)
    signature = cursor_signature(model, ordering, scope)
    window = queryset
    if after is not None:
        window = keyset_bound(window, ordering, after, signature, forward=True)
    if before is not None:
        window = keyset_bound(window, ordering, before, signature, forward=False)
    terms = [("-" if k.descending != backward else "") + k.field for k in keys]
    columns = list(dict.fromkeys([*fields, *(k.field for k in keys)]))
    rows = await window.order_by(*terms).limit(limit + 1).values(*columns)
    more = len(rows) > limit
    del rows[limit:]
    if backward:
        rows.reverse()

    async def count_total() -> int:
        return await queryset.count()

    return Page(
        rows=rows,
        cursors=[encode_cursor(signature, [row[k.field] for k in keys]) for row in rows],
        has_next=before is not None if backward else more,
        has_previous=more if backward else after is not None,
        count_total=count_total,
    )
