"""A read's request-time values: the principal, the lookup's arguments, each page's size,
cursors and filter, checked as the services check them and bound by name.

Every check raises what the resolver path raises (`ValidationFailed` from `gateway.core.paging` and
`gateway.services.issues.make_filter`); the compiled path then leaves the request to the
resolvers, which answer it with their own wording. A cursor of a list bound to its parent's id
(`members-of:<id>`) cannot be checked before the parent is found, so `CannotCompile` sends it
to the resolvers as well, unless the list is a root's (REST): the root's statement checks the
cursor's signature against the parent it finds (`gateway.reads.roots.compile_root`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

import orjson
from tortoise.filters import escape_like

from gateway.core.paging import (
    Ordering,
    cursor_signature,
    decode_cursor,
    ordering_plan,
    page_size,
    signature_text,
    unsigned_cursor,
)
from gateway.reads.compiler import model_of
from gateway.reads.model import Connection
from gateway.reads.nouns import NOUNS
from gateway.reads.selection import PageRequest
from gateway.reads.sql import CannotCompile
from gateway.repositories.events import EventFilter
from gateway.repositories.issues import IssueFilter
from gateway.repositories.labels import name_key
from gateway.services.issues import SORTS, make_filter
from gateway.services.projects import canonical_key
from models import Invitation

_INT64 = 2**63 - 1


def root_values(root_id: str, arguments: Mapping[str, object]) -> dict[str, object]:
    """The values of a root lookup's parameters (`gateway.reads.roots.Root`); the caller's
    (`viewer`) is bound per request by `caller_values`."""
    found: dict[str, object] = {}
    slug = arguments.get("slug", arguments.get("workspace"))
    if isinstance(slug, str):
        found[f"{root_id}.slug"] = slug
    key = arguments.get("key", arguments.get("project"))
    if isinstance(key, str):
        found[f"{root_id}.key"] = canonical_key(key)
    number = arguments.get("number")
    if isinstance(number, int):
        if not -_INT64 <= number <= _INT64:
            raise CannotCompile("number out of range")
        found[f"{root_id}.number"] = number
    username = arguments.get("username")
    if isinstance(username, str):
        found[f"{root_id}.username"] = username
    name = arguments.get("name")
    if isinstance(name, str):
        found[f"{root_id}.name"] = name_key(name)
    for name in ("pk", "parent"):  # a row's id, and its parent's (a webhook's delivery)
        pk = arguments.get(name)
        if isinstance(pk, int):
            if not 0 < pk <= _INT64:
                raise CannotCompile("key out of range")
            found[f"{root_id}.{name}"] = pk
    return found


_STORED_TIME: Final = Invitation._meta.fields_map["expires_at"]


def caller_values(user_id: int) -> dict[str, object]:
    """The parameter every read has: who asks (the statement reads whether they are active and
    a site admin itself)."""
    return {"viewer": user_id}


def parameters(names: Sequence[str], values: Mapping[str, object]) -> list[object]:
    """A statement's parameters in its order. The request's time (`now`, as the database stores
    a time: invitations' expiry) is taken only for a statement that reads it."""
    return [
        _STORED_TIME.to_db_value(datetime.now(UTC), Invitation) if name == "now" else values[name]
        for name in names
    ]


def _issue_order(order_by: object) -> str:
    if order_by is None:
        return "number"
    assert isinstance(order_by, dict)
    sort, direction = str(order_by["field"]), str(order_by["direction"])
    if sort not in SORTS:
        raise CannotCompile(sort)
    return f"{sort}-" if direction == "desc" else sort


def _where(given: object) -> IssueFilter:
    if given is None:
        return make_filter()
    assert isinstance(given, dict)
    state = given.get("state", "open")
    labels = given.get("labels")
    return make_filter(
        None if state is None else str(state),
        given.get("assignee"),
        labels,
        given.get("q"),
        labels_field="filter.labels",
    )


def _events(given: object) -> EventFilter:
    """A feed's filter as a REST route gives it (the type's value, a canonical key)."""
    if given is None:
        return EventFilter()
    assert isinstance(given, dict)
    type, project = given.get("type"), given.get("project")
    if not isinstance(type, str | None) or not isinstance(project, str | None):
        raise CannotCompile("an event filter of the wrong types")
    return EventFilter(type, project)


def _event_values(where: EventFilter) -> dict[str, object]:
    given = {"type": where.type, "project": where.project}
    return {name: value for name, value in given.items() if value is not None}


def page_request(
    page_id: str, relation: Connection, given: Mapping[str, object], *, root: bool = False
) -> tuple[PageRequest, dict[str, object]]:
    """One connection's page as this request asks for it, and its parameter values. A `root`
    page (a REST list: `gateway.reads.roots.Root.paged`) also takes cursors of a list bound
    to its parent's id, their signatures bound for the root's statement to check."""
    first, last = given.get("first"), given.get("last")
    if not isinstance(first, int | None) or not isinstance(last, int | None):
        raise CannotCompile("a page size that is not an integer")
    limit, backward = page_size(first, last)
    model = model_of(NOUNS[relation.target])
    issues = relation.filter == "issues"
    where: IssueFilter | EventFilter | None = None
    if issues:
        where = _where(given.get("filter"))
    elif relation.filter == "events":
        where = _events(given.get("filter"))
    ordering_name = _issue_order(given.get("orderBy")) if issues else next(iter(relation.orderings))
    ordering: Ordering = relation.orderings[ordering_name]
    values: dict[str, object] = {f"{page_id}.n": limit, f"{page_id}.n1": limit + 1}
    signature: str | None = None
    if isinstance(where, IssueFilter):
        signature = cursor_signature(model, ordering, where.scope())
        values[f"{page_id}.signature"] = signature
    else:
        prefix = (relation.scope_prefix or "") + ("" if where is None else where.prefix())
        values[f"{page_id}.scope"] = signature_text(model, ordering, prefix)
    bounds: dict[str, tuple[object, ...]] = {}
    for name, side in (("after", "a"), ("before", "b")):
        cursor = given.get(name)
        if cursor is None:
            continue
        keys = ordering_plan(model, ordering)
        if signature is not None:
            decoded = decode_cursor(str(cursor), keys, signature)
        elif not root:
            raise CannotCompile("a cursor bound to its parent's id")
        else:
            # The root's statement checks the signature once it has found the parent
            # (`compile_root`): a cursor of another list finds no row.
            carried, decoded = unsigned_cursor(str(cursor), keys)
            if carried is None or "\x00" in carried:  # PostgreSQL refuses NUL in text
                raise CannotCompile("a legacy or unreadable cursor bound to its parent's id")
            values[f"{page_id}.{side}sig"] = carried
        stored = tuple(k.target.to_db_value(v, model) for k, v in zip(keys, decoded, strict=True))
        bounds[name] = stored
        values.update({f"{page_id}.{side}{i}": v for i, v in enumerate(stored)})
    if isinstance(where, EventFilter):
        values.update({f"{page_id}.{k}": v for k, v in _event_values(where).items()})
    elif where is not None:
        if where.state is not None:
            values[f"{page_id}.state"] = where.state
        if where.assignee not in (None, "none"):
            values[f"{page_id}.assignee"] = where.assignee
        if where.labels:
            values[f"{page_id}.labels"] = orjson.dumps(list(where.labels)).decode()
            values[f"{page_id}.label_count"] = len(where.labels)
        if where.q is not None:
            values[f"{page_id}.q"] = f"%{escape_like(where.q)}%"  # as `icontains` sends it
    request = PageRequest(
        ordering=ordering_name,
        limit=limit,
        backward=backward,
        after=bounds.get("after"),
        before=bounds.get("before"),
        where=where,
        signature=signature,
    )
    return request, values
