"""Global IDs (`gateway.core.ids`) and the `node`/`nodes` fields that look them up
(`schema.lookup`), on a small schema with a fake registered type."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import pytest
import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.ids import NODE_TYPES, from_global_id, pk_of, to_global_id
from schema import lookup
from schema.context import Context
from schema.http.errors import CatalogueErrors
from schema.node import Node


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("type_name", sorted(NODE_TYPES))
@pytest.mark.parametrize("pk", [1, 42, 10**18 - 1])
def test_global_ids_round_trip(type_name: str, pk: int) -> None:
    global_id = to_global_id(type_name, pk)
    assert from_global_id(global_id) == (type_name, pk)
    assert pk_of(global_id, type_name) == pk
    assert "=" not in global_id
    assert global_id == b64(f"{type_name}:{pk}")


@pytest.mark.parametrize(
    "global_id",
    [
        "",
        "=",
        "a",
        "!!!",
        "é",
        b64("Issue"),
        b64("Issue:"),
        b64("Issue:abc"),
        b64("Issue:-1"),
        b64("Issue:1.5"),
        b64("Issue: 1"),
        b64("Gadget:1"),
        b64("issue:1"),
        b64(":1"),
        b64("Issue:" + "9" * 19),
        base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),
    ],
)
def test_malformed_ids_are_not_found(global_id: str) -> None:
    with pytest.raises(NotFound):
        from_global_id(global_id)


def test_unicode_digits_are_not_found() -> None:
    with pytest.raises(NotFound):
        from_global_id(b64("Issue:²"))


def test_pk_of_checks_the_type() -> None:
    with pytest.raises(NotFound):
        pk_of(to_global_id("Issue", 7), "Comment")


@strawberry.type(name="Label")
class FakeLabel(Node):
    name: str


LABELS = {1: "bug", 2: "ui", 3: "secret"}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """A registry of its own resolving `Label`s (label 3 is invisible to everyone); returns the
    pks each resolver call received."""
    received: list[list[int]] = []

    async def resolve(info: Info[Context, None], pks: list[int]) -> Sequence[FakeLabel | None]:
        received.append(pks)
        return [
            FakeLabel(id=strawberry.ID(to_global_id("Label", pk)), name=LABELS[pk])
            if pk in LABELS and pk != 3
            else None
            for pk in pks
        ]

    monkeypatch.setattr(lookup, "registry", lookup.NodeRegistry())
    lookup.register_node("Label", resolve)
    return received


@strawberry.type
class Query(lookup.NodeQuery):
    pass


SCHEMA = strawberry.Schema(query=Query, types=[FakeLabel], extensions=[CatalogueErrors])
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Label { name } } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Label { name } } }"


async def run(query: str, **variables: Any) -> tuple[Any, list[Any]]:
    result = await SCHEMA.execute(query, variable_values=variables)
    return result.data, [e.formatted for e in result.errors or []]


async def test_node_finds_registered_types(calls: list[list[int]]) -> None:
    gid = to_global_id("Label", 2)
    assert await run(NODE, id=gid) == (
        {"node": {"__typename": "Label", "id": gid, "name": "ui"}},
        [],
    )
    for missing in (
        "garbage",
        to_global_id("Label", 99),
        to_global_id("Label", 3),  # the resolver says invisible
        to_global_id("Issue", 1),  # nobody registered issues
    ):
        assert await run(NODE, id=missing) == ({"node": None}, [])


async def test_nodes_keep_order_and_batch_by_type(calls: list[list[int]]) -> None:
    one, two, three = (to_global_id("Label", pk) for pk in (1, 2, 3))
    asked = [two, "garbage", one, to_global_id("User", 1), two, three]
    data, errors = await run(NODES, ids=asked)
    assert not errors
    assert data["nodes"] == [{"name": "ui"}, None, {"name": "bug"}, None, {"name": "ui"}, None]
    assert calls == [[2, 1, 3]]  # one call for the type, each pk once


async def test_nodes_takes_at_most_100_ids(calls: list[list[int]]) -> None:
    assert (await run(NODES, ids=[to_global_id("Label", 1)] * 100))[1] == []
    data, errors = await run(NODES, ids=[to_global_id("Label", 1)] * 101)
    assert data is None
    assert errors[0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert errors[0]["extensions"]["fields"] == [
        {"field": "ids", "message": "at most 100 ids per request"}
    ]
    assert len(calls) == 1


async def test_registry_refuses_unknown_and_duplicate_types(calls: list[list[int]]) -> None:
    async def broken(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
        return []

    with pytest.raises(ValueError, match="not a global ID type"):
        lookup.register_node("Gadget", broken)
    with pytest.raises(ValueError, match="already registered"):
        lookup.register_node("Label", broken)
    lookup.register_node("Issue", broken)  # breaks the one-per-pk rule: an internal error
    data, errors = await run(NODE, id=to_global_id("Issue", 1))
    assert data == {"node": None}
    assert errors[0]["extensions"]["code"] == "INTERNAL"
