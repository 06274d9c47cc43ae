"""GraphQL comments: the `Comment` type (with `author` and `issue`), `Issue.comments` (via
`issue_comments`), `node(id:)` for comments, and `addComment`, `updateComment`,
`deleteComment`.

Resolvers only translate: global IDs to keys, inputs to the service's Pydantic models, views to
types. Every rule lives in `gateway.services.comments`, shared with REST. `user_loader` and
`issue_loader` also serve `Event.actor` and `Event.issue`.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from gateway.core.errors import NotFound
from gateway.core.ids import pk_of
from gateway.core.paging import PageArgs
from gateway.core.validation import validated
from gateway.reads import nouns
from gateway.services import comments, issue_reads, issues, members
from gateway.services.comments import CommentCreate, CommentPatch
from gateway.services.issue_views import IssueView
from gateway.services.users import UserView
from schema.connection import Connection, to_connection
from schema.context import Context
from schema.declared import declared, values
from schema.loaders import nested_page
from schema.lookup import register_node
from schema.node import Node
from schema.users import User

if TYPE_CHECKING:
    from schema.issues import Issue


def user_loader(info: Info[Context, None]) -> DataLoader[int, UserView | None]:
    """User accounts by id, as the caller may see them (inactive ones included: an author
    stays an author). The same loader, and cache, as `Membership.user`."""
    principal = info.context.viewer

    async def batch(ids: list[int]) -> list[UserView | None]:
        return await members.users_by_id(principal, ids)

    return info.context.loaders.loader("members.user", batch)


def issue_loader(info: Info[Context, None]) -> DataLoader[int, IssueView | None]:
    """Issues by id, unchecked: for objects (comments, events) already shown to be visible,
    whose issue lives in the same workspace."""

    async def batch(ids: list[int]) -> list[IssueView | None]:
        found = await issues.views_by_ids(ids)
        return [found.get(i) for i in ids]

    return info.context.loaders.loader("issues.view_by_id", batch)


def comment_count_loader(info: Info[Context, None]) -> DataLoader[int, int]:
    """Issue id → how many comments it has, unchecked (the issue is already visible): behind
    both `Issue.commentCount` and `Issue.comments.totalCount`."""
    return info.context.loaders.loader("issues.comment_count", issue_reads.comment_counts)


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
    async def author(self, info: Info[Context, None]) -> User:
        view = await user_loader(info).load(self.author_id)
        if view is None:  # a foreign key: only a concurrent deletion gets here
            raise NotFound("No such user")
        return User.of(view)

    @strawberry.field(description="The issue the comment is on.")
    async def issue(
        self, info: Info[Context, None]
    ) -> Annotated[Issue, strawberry.lazy("schema.issues")]:
        from schema.issues import Issue

        view = await issue_loader(info).load(self.issue_id)
        if view is None:  # deleted between reading the comment and its issue
            raise NotFound("No such issue")
        return Issue.of(view)


async def comments_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for comments: null unless the caller may read the comment's workspace.
    One statement for the comments, one batch for their workspaces."""
    views = await comments.visible_by_pk(info.context.viewer, pks)
    return [None if view is None else Comment.of(view) for view in views]


register_node("Comment", comments_by_pk)


async def issue_comments(
    info: Info[Context, None],
    issue_id: int,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Comment]:
    """The resolver of `Issue.comments`: the issue's comments, oldest first. One statement for
    the pages of every issue at this level, one (shared with `commentCount`) for their totals."""
    paging = PageArgs(first=first, after=after, last=last, before=before)
    pages = partial(issue_reads.comment_pages, info.context.viewer, **paging)
    totals = comment_count_loader(info)
    page = await nested_page(
        info.context.loaders, "issue.comments", issue_id, paging, pages, totals
    )
    return to_connection(page, lambda row: Comment.of(comments.row_view(row)))


@strawberry.input(description="A new comment on an issue.")
class AddCommentInput:
    issue_id: strawberry.ID = strawberry.field(description="The issue's global ID.")
    body: str = strawberry.field(description="Markdown, 1 to 65,536 characters (trimmed).")


@strawberry.input(description="A new body for one's own comment.")
class UpdateCommentInput:
    id: strawberry.ID = strawberry.field(description="The comment's global ID.")
    body: str = strawberry.field(description="Markdown, 1 to 65,536 characters (trimmed).")
    expected_version: int | None = strawberry.field(
        default=None, description="PRECONDITION_FAILED unless the comment is at this version."
    )


@strawberry.input(description="The comment to delete.")
class DeleteCommentInput:
    id: strawberry.ID = strawberry.field(description="The comment's global ID.")
    expected_version: int | None = strawberry.field(
        default=None, description="PRECONDITION_FAILED unless the comment is at this version."
    )


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
