"""REST's representations, each a pick of a read-model noun (`gateway.reads.nouns`).

A `Shape` is declared once, as names of the noun's values and relations (`whole`: all of its
values); its Pydantic model (the OpenAPI schema: types, nullability and descriptions come from
the noun) and its compiled read (`Obj`) are both derived from that declaration, so the
documented body and the SQL that writes it cannot drift apart. REST keys are the domain's
names, but for the global id (`node_id`) and a comment's path id (`id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, JsonValue, create_model

from gateway.reads.fields import DELIVERY_STATES, INVITATION_STATES, PRIORITIES, ROLES, STATES
from gateway.reads.model import PYTHON_TYPES, Kind, Scalar, ToMany, ToOne
from gateway.reads.nouns import NOUNS
from gateway.reads.selection import Listed, Nested, Obj
from models import DeliveryState, InvitationState, IssueState, Role

IssuePriority = StrEnum("IssuePriority", [(name, name) for name in PRIORITIES.values()])  # type: ignore[misc]

_TYPES: Final[dict[Kind, Any]] = {**PYTHON_TYPES, Kind.json: dict[str, JsonValue]}
_ENUMS: Final[dict[int, type[StrEnum]]] = {  # by the identity of the noun's spellings
    id(ROLES): Role,
    id(STATES): IssueState,
    id(PRIORITIES): IssuePriority,
    id(INVITATION_STATES): InvitationState,
    id(DELIVERY_STATES): DeliveryState,
}
_KEYS: Final = {"id": "node_id", "pk": "id"}  # the noun's name → REST's key


@dataclass(frozen=True, slots=True, eq=False)  # hashed by identity: `page_of` caches
class Shape:
    """A REST body: its model (for OpenAPI) and its read (for the compiler)."""

    model: type[BaseModel]
    read: Obj


Pick = str | tuple[str, Shape]  # a value, or a relation with the shape of its target


def _type(scalar: Scalar) -> Any:
    kind = _ENUMS[id(scalar.enum)] if scalar.kind is Kind.enum else _TYPES[scalar.kind]
    return kind | None if scalar.nullable else kind


def shape(title: str, noun_name: str, doc: str, *picks: Pick) -> Shape:
    """The shape `title` of the noun `noun_name`: its picks, in order."""
    noun = NOUNS[noun_name]
    fields: dict[str, Any] = {}
    read: list[tuple[str, Any]] = []
    for pick in picks:
        name, inner = (pick, None) if isinstance(pick, str) else pick
        entry, key = noun.get(name), _KEYS.get(name, name)
        if isinstance(entry, Scalar) and inner is None:
            fields[key] = (_type(entry), Field(description=entry.doc))
            read.append((key, entry))
        elif isinstance(entry, ToOne) and inner is not None:
            one = inner.model | None if entry.nullable else inner.model
            fields[key] = (one, Field(description=entry.doc))
            read.append((key, Nested(entry, inner.read)))
        elif isinstance(entry, ToMany) and inner is not None:
            fields[key] = (list[inner.model], Field(description=entry.doc))  # type: ignore[name-defined]
            read.append((key, Listed(entry, inner.read)))
        else:
            raise TypeError(f"{title}.{name}: not a value or relation of {noun.name} as picked")
    model = create_model(title, __config__=ConfigDict(title=title), __doc__=doc, **fields)
    return Shape(model, Obj(noun, tuple(read), api="rest"))


def whole(title: str, noun_name: str, doc: str) -> Shape:
    """The shape `title` of every value of the noun `noun_name`, in the noun's order (a value
    the noun gains, the body gains too); no relations."""
    return shape(title, noun_name, doc, *(scalar.name for scalar in NOUNS[noun_name].scalars))


USER_BRIEF: Final = shape(
    "UserBrief", "User", "A user as other objects name them.", "id", "username", "display_name"
)
USER: Final = shape(
    "User",
    "User",
    "A user. `email` is only shown to the user themselves (and to site admins).",
    "id",
    "username",
    "email",
    "display_name",
    "is_site_admin",
    "version",
    "created_at",
)
WORKSPACE: Final = whole("Workspace", "Workspace", "A workspace, as the caller sees it.")
MEMBER: Final = shape(
    "Member",
    "Membership",
    "A membership: a user's role in the workspace.",
    "id",
    ("user", USER_BRIEF),
    "role",
    "version",
    "created_at",
    "updated_at",
)
PROJECT: Final = whole("Project", "Project", "A project.")
LABEL_BRIEF: Final = shape(
    "LabelBrief", "Label", "A label as an issue carries it.", "id", "name", "color"
)
LABEL: Final = whole("Label", "Label", "A label.")
ISSUE: Final = shape(
    "Issue",
    "Issue",
    "An issue.",
    "id",
    "number",
    "title",
    "body",
    "state",
    "priority",
    ("author", USER_BRIEF),
    ("assignee", USER_BRIEF),
    ("labels", LABEL_BRIEF),
    "comment_count",
    "due_date",
    "closed_at",
    "created_at",
    "updated_at",
    "version",
    "project_key",
)
COMMENT: Final = shape(
    "Comment",
    "Comment",
    "A comment on an issue.",
    "id",
    "pk",
    "issue_id",
    ("author", USER_BRIEF),
    "body",
    "edited_at",
    "version",
    "created_at",
    "updated_at",
)
EVENT: Final = shape(
    "Event",
    "Event",
    "One committed change in a workspace.",
    "id",
    "type",
    ("actor", USER_BRIEF),
    "subject_id",
    "project_id",
    "issue_id",
    "data",
    "created_at",
)
WORKSPACE_INFO: Final = shape(
    "WorkspaceInfo",
    "Workspace",
    "What an invitee may know of the workspace before joining.",
    "id",
    "slug",
    "name",
)
INVITATION: Final = shape(
    "Invitation",
    "Invitation",
    "An invitation to join a workspace.",
    "pk",
    "id",
    ("workspace", WORKSPACE_INFO),
    "role",
    "state",
    ("invitee", USER_BRIEF),
    "email",
    ("inviter", USER_BRIEF),
    "expires_at",
    "responded_at",
    "version",
    "created_at",
    "updated_at",
)
WEBHOOK: Final = whole(
    "Webhook", "Webhook", "A webhook (its secret is shown only when it is created)."
)
DELIVERY: Final = whole(
    "Delivery", "WebhookDelivery", "One event's delivery to a webhook, with its last attempt."
)
