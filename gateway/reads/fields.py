"""Shortcuts for declaring a noun's values (`gateway.reads.nouns`, `…admin_nouns`), and how each
enum is spelled in the APIs (stored value → REST's lower-case name; GraphQL upper-cases it)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from gateway.reads.model import Kind, Scalar
from models import DeliveryState, InvitationState, IssuePriority, IssueState, Role


def spellings(values: Mapping[object, str]) -> Mapping[object, str]:
    return MappingProxyType(dict(values))


ROLES: Final = spellings({role.value: role.value for role in Role})
STATES: Final = spellings({state.value: state.value for state in IssueState})
PRIORITIES: Final = spellings({p.value: p.name for p in IssuePriority})
INVITATION_STATES: Final = spellings({s.value: s.value for s in InvitationState})
DELIVERY_STATES: Final = spellings({s.value: s.value for s in DeliveryState})


def node_id() -> Scalar:
    return Scalar("id", Kind.node_id, "The global ID (GraphQL `id`, REST `node_id`).", column="id")


def column(name: str, kind: Kind, doc: str, **options: Any) -> Scalar:
    return Scalar(name, kind, doc, column=name, **options)


def nullable(name: str, kind: Kind, doc: str) -> Scalar:
    return column(name, kind, doc, nullable=True)


def version(doc: str = 'Grows with every change; the ETag is `"v<version>"`.') -> Scalar:
    return column("version", Kind.integer, doc)


def created(what: str) -> Scalar:
    return column("created_at", Kind.timestamp, f"When the {what} was created.")


def updated(what: str) -> Scalar:
    return column("updated_at", Kind.timestamp, f"When the {what} last changed.")


def path_id(what: str) -> Scalar:
    return Scalar("pk", Kind.integer, f"Names the {what} in paths.", column="id", graphql=False)
