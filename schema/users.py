"""GraphQL users: the `User` type, `viewer`, and `updateViewer`.

Types are built from `gateway.services.users.UserView` (plain data, email already hidden or
shown for this viewer), never from ORM rows, so GraphQL cannot expose what REST does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.paging import PageArgs
from gateway.core.validation import validated
from gateway.http.deps import get_throttle
from gateway.reads import nouns
from gateway.services import users
from schema.connection import Connection, Paged
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import given
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.invitations import Invitation
    from schema.workspaces import Workspace


@declared(nouns.USER, "A person (or bot) who signs in.")
class User(Node):
    pk: strawberry.Private[int]

    @strawberry.field(
        description="The workspaces this user belongs to that you can see (all of them for"
        " yourself), in the order they were joined.",
        extensions=[Paged()],
    )
    async def workspaces(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Workspace, strawberry.lazy("schema.workspaces")]]:
        return await info.context.loaders.user_workspaces(self.pk, paging)

    @strawberry.field(
        description="The invitations you may still accept, newest first: those naming your"
        " account or its email address. Null on anyone but yourself.",
        extensions=[Paged()],
    )
    async def invitations(
        self, info: Info[Context, None], paging: PageArgs
    ) -> Connection[Annotated[Invitation, strawberry.lazy("schema.invitations")]] | None:
        return await info.context.loaders.viewer_invitations(self.pk, paging)

    @classmethod
    def of(cls, view: users.UserView) -> User:
        return cls(**values(cls, view), pk=view.pk)


async def users_by_pk(info: Info[Context, None], pks: list[int]) -> list[User | None]:
    """`node(id:)` for users: one statement for all of them."""
    views = await users.visible_by_pk(info.context.viewer, pks)
    return [User.of(v) if v is not None else None for v in views]


register_node("User", users_by_pk)


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user. UNAUTHENTICATED when anonymous.")
    async def viewer(self, info: Info[Context, None]) -> User:
        return User.of(await users.get_viewer(info.context.viewer))


@strawberry.input(
    description="Changes to the signed-in user; omitted fields stay as they are (null is refused)."
)
class UpdateViewerInput:
    display_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 100 characters."
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="Needs `currentPassword`."
    )
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="8 to 256 characters. Needs `currentPassword`."
    )
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Required to change `email` or `password`."
    )


@strawberry.type(description="The result of `updateViewer`.")
class UpdateViewerPayload:
    user: User = strawberry.field(description="The signed-in user, changed.")


@strawberry.type
class UserMutation:
    @strawberry.mutation(
        description="Change the signed-in user's display name, email or password. Email and"
        " password changes need `currentPassword`; a new password signs out every session."
        " Needs the `write` scope (FORBIDDEN otherwise)."
    )
    async def update_viewer(
        self, info: Info[Context, None], input: UpdateViewerInput
    ) -> UpdateViewerPayload | None:
        viewer = info.context.viewer  # UNAUTHENTICATED first, before any input error
        request = info.context.request
        assert request is not None  # always set by Strawberry's FastAPI router
        changes = validated(
            users.ViewerChanges,
            given(
                display_name=input.display_name,
                email=input.email,
                password=input.password,
                current_password=input.current_password,
            ),
        )
        view = await users.update_viewer(viewer, changes, throttle=get_throttle(request))
        return UpdateViewerPayload(user=User.of(view))
