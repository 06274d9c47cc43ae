"""GraphQL memberships: the `Membership` type, the `Role` enum, and the `updateMemberRole` and
`removeMember` mutations (merged into `WorkspaceMutation`). There is no `addMember`: users join
by accepting an invitation (`schema.invitations`).

Resolvers only translate; every rule lives in `gateway.services.members`, shared with REST.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, TypeVar

import strawberry
from pydantic import BaseModel
from strawberry.types import Info

from gateway.core.ids import pk_of
from gateway.reads import nouns
from gateway.services import members
from models import Role as DomainRole
from schema.context import Context
from schema.declared import declared, values
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.users import User

M = TypeVar("M", bound=BaseModel)


@strawberry.enum(name="Role", description="A role in a workspace, weakest first.")
class Role(Enum):
    VIEWER = strawberry.enum_value("viewer", description="Reads everything in the workspace.")
    MEMBER = strawberry.enum_value(
        "member", description="Also creates and edits issues, and comments."
    )
    ADMIN = strawberry.enum_value(
        "admin", description="Also manages members (up to admin), labels and projects."
    )
    OWNER = strawberry.enum_value(
        "owner", description="Also manages owners, renames and deletes the workspace."
    )

    @property
    def domain(self) -> DomainRole:
        return DomainRole[self.name.lower()]


@declared(nouns.MEMBERSHIP, "A user's role in a workspace.", {"role": Role})
class Membership(Node):
    pk: strawberry.Private[int]
    user_pk: strawberry.Private[int]

    @strawberry.field(description="The member.")
    async def user(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")]:
        # Batched: every membership of a page asks in the same tick, one statement in all.
        user = await info.context.loaders.user.load(self.user_pk)
        if user is None:  # the account went away between the two reads
            raise RuntimeError(f"membership {self.pk} names a missing user")
        return user

    @classmethod
    def of(cls, view: members.MemberView) -> Membership:
        return cls(**values(cls, view), pk=view.pk, user_pk=view.user_id)


async def memberships_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for memberships: visibility is the service's call."""
    views = await members.visible_by_pk(info.context.viewer, pks)
    return [None if v is None else Membership.of(v) for v in views]


register_node("Membership", memberships_by_pk)


@strawberry.input(description="A member's new role.")
class UpdateMemberRoleInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    user_id: strawberry.ID = strawberry.field(description="The member's user global ID.")
    role: Role = strawberry.field(description="The new role.")


@strawberry.input(description="The member to remove (yourself, to leave).")
class RemoveMemberInput:
    workspace_id: strawberry.ID = strawberry.field(description="The workspace's global ID.")
    user_id: strawberry.ID = strawberry.field(description="The member's user global ID.")


@strawberry.type(description="The result of `updateMemberRole`.")
class UpdateMemberRolePayload:
    membership: Membership = strawberry.field(description="The membership, changed.")


@strawberry.type(description="The result of `removeMember`.")
class RemoveMemberPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The membership's global ID.")


@strawberry.type
class MemberMutation:
    @strawberry.mutation(
        description="Change a member's role. Admins change roles up to ADMIN; only owners make"
        " or unmake owners. CONFLICT when it would demote the last owner."
    )
    async def update_member_role(
        self, info: Info[Context, None], input: UpdateMemberRoleInput
    ) -> UpdateMemberRolePayload | None:
        workspace = pk_of(input.workspace_id, "Workspace")
        user = pk_of(input.user_id, "User")
        view = await members.change_role(info.context.viewer, workspace, user, input.role.domain)
        return UpdateMemberRolePayload(membership=Membership.of(view))

    @strawberry.mutation(
        description="Remove a member (admins remove non-owners, owners anyone), or leave by"
        " naming yourself. CONFLICT for the last owner."
    )
    async def remove_member(
        self, info: Info[Context, None], input: RemoveMemberInput
    ) -> RemoveMemberPayload | None:
        workspace = pk_of(input.workspace_id, "Workspace")
        user = pk_of(input.user_id, "User")
        view = await members.remove_member(info.context.viewer, workspace, user)
        return RemoveMemberPayload(deleted_id=strawberry.ID(view.node_id))
