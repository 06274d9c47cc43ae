"""The shape of a GraphQL document with its fragments expanded: depth, aliases and fields.

A fragment spread stands for the fragment's whole selection, so a document of a few hundred
bytes can stand for millions of fields (21 fragments each spreading the next twice: 2²⁰). Walking
the spreads one by one takes time exponential in the document; here every fragment is measured
once, after the fragments it spreads (an iterative topological order, so long chains of
fragments cannot exhaust the interpreter's stack either), and a spread adds its fragment's
measure. The whole analysis is linear in the size of the document.

Counting follows Strawberry's `QueryDepthLimiter` and `MaxAliasesLimiter`, which this replaces:
depth counts the fields that have a selection below the operation's root (a leaf at depth 12
passes a limit of 12), introspection fields (`__schema`, `__type`) do not count and are not
descended for depth; aliases and fields count every selection where it is spread. A spread that
closes a cycle, or names an unknown fragment, adds nothing: `NoFragmentCycles` and
`KnownFragmentNames` refuse such documents anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

__all__ = ["Shape", "dependency_order", "fragment_definitions", "measure"]


@dataclass(frozen=True, slots=True)
class Shape:
    """What a selection adds once expanded: its depth, its aliases and its field selections."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def beside(self, other: Shape) -> Shape:
        """Two selections side by side: the deeper depth, the sum of the rest."""
        return Shape(
            max(self.depth, other.depth), self.aliases + other.aliases, self.fields + other.fields
        )


EMPTY = Shape()


def fragment_definitions(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def spread_names(selection_set: SelectionSetNode) -> Iterator[str]:
    """The fragments spread anywhere inside `selection_set`, in document order."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif selection.selection_set is not None:  # type: ignore[attr-defined]
                pending.append(selection.selection_set)  # type: ignore[attr-defined]


def dependency_order(
    fragments: Mapping[str, FragmentDefinitionNode], roots: Iterable[str]
) -> list[str]:
    """The fragments reachable from `roots`, each after every fragment it spreads (a spread
    closing a cycle is ignored; unknown names are skipped)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in roots:
        if root in seen or root not in fragments:
            continue
        seen.add(root)
        path = [(root, spread_names(fragments[root].selection_set))]
        while path:
            name, spreads = path[-1]
            for spread in spreads:
                if spread in fragments and spread not in seen:
                    seen.add(spread)
                    path.append((spread, spread_names(fragments[spread].selection_set)))
                    break
            else:
                path.pop()
                order.append(name)
    return order


def _selection_shape(selection_set: SelectionSetNode, known: Mapping[str, Shape]) -> Shape:
    # Recursion follows the nesting within one definition only, which the parser bounds.
    shape = EMPTY
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            shape = shape.beside(known.get(selection.name.value, EMPTY))
        elif isinstance(selection, FieldNode):
            own = Shape(0, 1 if selection.alias else 0, 1)
            if selection.selection_set is not None:
                inner = _selection_shape(selection.selection_set, known)
                counted = not selection.name.value.startswith("__")
                own = own.beside(
                    Shape(inner.depth + 1 if counted else 0, inner.aliases, inner.fields)
                )
            shape = shape.beside(own)
        elif isinstance(selection, InlineFragmentNode):
            shape = shape.beside(_selection_shape(selection.selection_set, known))
    return shape


def measure(document: DocumentNode) -> list[tuple[OperationDefinitionNode, Shape]]:
    """Every operation of `document` with its expanded shape."""
    fragments = fragment_definitions(document)
    known: dict[str, Shape] = {}
    for name in dependency_order(fragments, fragments):
        known[name] = _selection_shape(fragments[name].selection_set, known)
    return [
        (operation, _selection_shape(operation.selection_set, known))
        for operation in document.definitions
        if isinstance(operation, OperationDefinitionNode)
    ]
