"""GraphQL comments: the `Comment` type (with `author` and `issue`), `node(id:)` for comments,
and `addComment`, `updateComment`, `deleteComment`. `Issue.comments` is
`schema.loaders.Loaders.issue_comments`.

Resolvers only translate: global IDs to keys, inputs to the service's Pydantic models, views to
types. Every rule lives in `gateway.services.comments`, shared with REST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.ids import pk_of
from gateway.core.validation import validated
from gateway.reads import nouns
from gateway.services import comments
from gateway.services.comments import CommentCreate, CommentPatch
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import expected_version_field
from schema.lookup import register_node
from schema.node import Node

if TYPE_CHECKING:
    from schema.issues import Issue
    from schema.users import User


@declared(nouns.COMMENT, "A comment on an issue.")
class Comment(Node):
    pk: strawberry.Private[int]
    author_id: strawberry.Private[int]
    issue_id: strawberry.Private[int]

    @classmethod
    def of(cls, view: comments.CommentView) -> Comment:
        return cls(
            **values(cls, view), pk=view.pk, author_id=view.author_id, issue_id=view.issue_id
        )

    @strawberry.field(description="Who wrote the comment.")
    async def author(
        self, info: Info[Context, None]
    ) -> Annotated[User, strawberry.lazy("schema.users")]:
        author = await info.context.loaders.user.load(self.author_id)
        if author is None:  # a foreign key: only a concurrent deletion gets here
            raise NotFound("No such user")
        return author

    @strawberry.field(description="The issue the comment is on.")
    async def issue(
        self, info: Info[Context, None]
    ) -> Annotated[Issue, strawberry.lazy("schema.issues")]:
        issue = await info.context.loaders.issue.load(self.issue_id)
        if issue is None:  # deleted between reading the comment and its issue
            raise NotFound("No such issue")
        return issue


async def comments_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for comments: null unless the caller may read the comment's workspace.
    One statement for the comments, one batch for their workspaces."""
    views = await comments.visible_by_pk(info.context.viewer, pks)
    return [None if view is None else Comment.of(view) for view in views]


register_node("Comment", comments_by_pk)


@strawberry.input(description="A new comment on an issue.")
class AddCommentInput:
    issue_id: strawberry.ID = strawberry.field(description="The issue's global ID.")
    body: str = strawberry.field(description="Markdown, 1 to 65,536 characters (trimmed).")


@strawberry.input(description="A new body for one's own comment.")
class UpdateCommentInput:
    id: strawberry.ID = strawberry.field(description="The comment's global ID.")
    body: str = strawberry.field(description="Markdown, 1 to 65,536 characters (trimmed).")
    expected_version: int | None = expected_version_field("comment")


@strawberry.input(description="The comment to delete.")
class DeleteCommentInput:
    id: strawberry.ID = strawberry.field(description="The comment's global ID.")
    expected_version: int | None = expected_version_field("comment")


@strawberry.type(description="The result of `addComment` and `updateComment`.")
class CommentPayload:
    comment: Comment = strawberry.field(description="The comment, as stored.")


@strawberry.type(description="The result of `deleteComment`.")
class DeleteCommentPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The deleted comment's global ID.")


@strawberry.type
class CommentMutation:
    @strawberry.mutation(
        description="Comment on an issue (members and up). CONFLICT when the project is"
        " archived; NOT_FOUND when the issue is invisible."
    )
    async def add_comment(
        self, info: Info[Context, None], input: AddCommentInput
    ) -> CommentPayload | None:
        data = validated(CommentCreate, {"body": input.body})
        issue = pk_of(input.issue_id, "Issue")
        view = await comments.add_comment(info.context.viewer, issue, data)
        return CommentPayload(comment=Comment.of(view))

    @strawberry.mutation(
        description="Change the body of your own comment; nobody else may, admins included."
        " Sets `editedAt` and bumps `version` when the body changes."
    )
    async def update_comment(
        self, info: Info[Context, None], input: UpdateCommentInput
    ) -> CommentPayload | None:
        data = validated(CommentPatch, {"body": input.body})
        comment = pk_of(input.id, "Comment")
        view = await comments.update_comment(
            info.context.viewer, comment, data, input.expected_version
        )
        return CommentPayload(comment=Comment.of(view))

    @strawberry.mutation(description="Delete your own comment, or (admins and owners) anyone's.")
    async def delete_comment(
        self, info: Info[Context, None], input: DeleteCommentInput
    ) -> DeleteCommentPayload | None:
        comment = pk_of(input.id, "Comment")
        deleted = await comments.delete_comment(
            info.context.viewer, comment, input.expected_version
        )
        return DeleteCommentPayload(deleted_id=strawberry.ID(comments.node_id(deleted)))
