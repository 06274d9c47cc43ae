"""Per-request loaders: every relation between the schema's objects, batched.

A `Loaders` is built for one request (for one operation, over a websocket:
`Context.start_operation`) from its context, never shared: a DataLoader caches what it loaded,
and one shared between requests would serve an object loaded for one principal (one tenant) to
another, and keep serving it after it changed. `ClearLoaders` forgets everything once a
mutation's resolver returns.

Each relation a type follows is one member here, named for what it loads, and resolvers reach
it through their context:

    @strawberry.field(description="The project the issue belongs to.")
    async def project(
        self, info: Info[Context, None]
    ) -> Annotated[Project, strawberry.lazy("schema.projects")]:
        project = await info.context.loaders.project.load(self.project_pk)

- An object, or a small set, by key (`user`, `project`, `issue_labels`, `comment_count`…) is a
  DataLoader: the `load` calls made while one level of the query resolves are gathered into one
  call of its batch function, so the statement count follows the query's shape, not the number
  of rows (ADR 0006).
- A connection (`project_issues`, `issue_comments`, `workspace_members`…) is a method: the pages
  of every parent at one level asking with the same arguments come from one statement
  (`gateway.repositories.nested`), their `totalCount` from one more. `user_workspaces`,
  `viewer_invitations`, `workspace_invitations` and `workspace_webhooks` page per parent.

This is the one module that builds other modules' objects: the type modules refer to each other
only in annotations (under TYPE_CHECKING, through `strawberry.lazy`), so they import each other
in no cycle (ADR 0021).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension
from strawberry.types import Info
from strawberry.types.base import get_object_definition

from gateway.core.errors import DomainError
from gateway.core.paging import Page, PageArgs
from gateway.services import (
    comments,
    feed,
    invitations,
    issue_reads,
    issues,
    labels,
    members,
    nested_reads,
    projects,
    users,
    webhooks,
    workspaces,
)
from schema.comments import Comment
from schema.connection import Connection, to_connection
from schema.context import Context
from schema.events import Event
from schema.invitations import Invitation
from schema.issues import Issue
from schema.labels import Label
from schema.members import Membership
from schema.projects import Project
from schema.users import User
from schema.webhooks import Webhook, WebhookDelivery
from schema.workspaces import Workspace

if TYPE_CHECKING:
    from gateway.repositories.issues import IssueFilter

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

# PostgreSQL takes at most 32767 parameters per statement (SQLite 32766); above this many keys a
# batch is split, so a huge fan-out costs a few statements instead of failing.
MAX_BATCH_SIZE = 1000

# A service's batched pages: (principal, parent ids, **paging) → one page (or error) per parent.
PagesOf = Callable[..., Awaitable[Sequence[Page | DomainError]]]


def _each(to_node: Callable[[V], T], found: Sequence[V | None]) -> list[T | None]:
    return [None if view is None else to_node(view) for view in found]


def _in_order(to_node: Callable[[V], T], found: Mapping[int, V], ids: list[int]) -> list[T | None]:
    return [None if (view := found.get(pk)) is None else to_node(view) for pk in ids]


class Loaders:
    """The loaders of one request, each built on first use from the context's caller."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._loaders: dict[str, DataLoader[Any, Any]] = {}

    def loader(
        self, key: str, batch_fn: Callable[[list[K]], Awaitable[Sequence[V]]]
    ) -> DataLoader[K, V]:
        """The request's DataLoader named `key`, created with `batch_fn` on first use.

        `batch_fn` takes a list of keys and returns one value per key, in the same order (None
        for a missing row; an exception instance fails only that key's `load`). The first
        `batch_fn` given a name is the one used for the rest of the request.
        """
        existing = self._loaders.get(key)
        if existing is None:
            existing = DataLoader(load_fn=batch_fn, max_batch_size=MAX_BATCH_SIZE)
            self._loaders[key] = existing
        return existing

    def clear(self) -> None:
        """Forget everything loaded so far (`ClearLoaders` calls it after every mutation)."""
        for loader in self._loaders.values():
            loader.clear_all()

    @property
    def user(self) -> DataLoader[int, User | None]:
        """Accounts by id as the caller may see them, inactive ones included (an author stays
        an author): authors, assignees, actors and members."""
        viewer = self._context.viewer

        async def batch(ids: list[int]) -> list[User | None]:
            return _each(User.of, await members.users_by_id(viewer, ids))

        return self.loader("user", batch)

    @property
    def active_user(self) -> DataLoader[int, User | None]:
        """Active accounts by id, None once deactivated or gone: invitees and inviters."""
        viewer = self._context.viewer

        async def batch(ids: list[int]) -> list[User | None]:
            return _each(User.of, await users.visible_by_pk(viewer, ids))

        return self.loader("active_user", batch)

    @property
    def workspace(self) -> DataLoader[int, Workspace | None]:
        """Workspaces by id as the caller sees them; None where invisible (the service
        decides)."""
        viewer = self._context.viewer

        async def batch(ids: list[int]) -> list[Workspace | None]:
            return _each(Workspace.of, await workspaces.visible_by_pk(viewer, ids))

        return self.loader("workspace", batch)

    @property
    def project(self) -> DataLoader[int, Project | None]:
        """Projects by id, unchecked: for objects whose own visibility is already established
        (an issue's or an event's project lives in the same workspace)."""

        async def batch(ids: list[int]) -> list[Project | None]:
            return _in_order(Project.of, await projects.views_by_ids(ids), ids)

        return self.loader("project", batch)

    @property
    def issue(self) -> DataLoader[int, Issue | None]:
        """Issues by id, unchecked: for objects already shown to be visible (comments,
        events), whose issue lives in the same workspace."""

        async def batch(ids: list[int]) -> list[Issue | None]:
            return _in_order(Issue.of, await issues.views_by_ids(ids), ids)

        return self.loader("issue", batch)

    @property
    def event(self) -> DataLoader[int, Event | None]:
        """Events by id, None unless the caller may read the event's workspace."""
        viewer = self._context.viewer

        async def batch(ids: list[int]) -> list[Event | None]:
            return _each(Event.of, await feed.visible_by_pk(viewer, ids))

        return self.loader("event", batch)

    @property
    def issue_labels(self) -> DataLoader[int, list[Label]]:
        """Issue id → its labels, by name (the issue is already visible)."""

        async def batch(ids: list[int]) -> list[list[Label]]:
            return [
                [Label.of(view) for view in found] for found in await issue_reads.labels_of(ids)
            ]

        return self.loader("issue_labels", batch)

    @property
    def comment_count(self) -> DataLoader[int, int]:
        """Issue id → how many comments it has, unchecked (the issue is already visible):
        behind both `Issue.commentCount` and `Issue.comments.totalCount`."""
        return self.loader("comment_count", issue_reads.comment_counts)

    async def _nested(
        self,
        name: str,
        parent: int,
        paging: PageArgs,
        pages_of: PagesOf,
        totals: DataLoader[int, int],
        to_node: Callable[[dict[str, Any]], T],
    ) -> Connection[T]:
        """`parent`'s page of the connection `name`: every parent at one query level asking
        with the same paging arguments shares one call of `pages_of`, and `totalCount` one load
        of `totals`. Raises the parent's error (NOT_FOUND, a refused cursor) as its
        single-parent resolver would."""
        arguments = ",".join(f"{key}={value}" for key, value in sorted(paging.items()))
        pages = partial(pages_of, self._context.viewer, **paging)
        page = await self.loader(f"{name}({arguments})", pages).load(parent)
        if isinstance(page, DomainError):  # the loader raises these; this narrows the type
            raise page

        async def count_total() -> int:
            return await totals.load(parent)

        return to_connection(replace(page, count_total=count_total), to_node)

    async def project_issues(
        self, project: int, where: IssueFilter, sort: str, descending: bool, paging: PageArgs
    ) -> Connection[Issue]:
        """`Project.issues`: the project's issues matching `where`, in `sort` order, the same
        list as REST's. One GROUP BY per filter counts them."""
        pages = partial(issue_reads.issue_pages, where=where, sort=sort, descending=descending)
        totals = self.loader(
            f"issues.count:{where.scope()}", partial(issue_reads.count_issues, where=where)
        )
        name = f"project.issues:{sort}:{descending}:{where.scope()}"
        return await self._nested(name, project, paging, pages, totals, Issue.from_row)

    async def issue_comments(self, issue: int, paging: PageArgs) -> Connection[Comment]:
        """`Issue.comments`: oldest first; the totals are `comment_count`'s."""
        return await self._nested(
            "issue.comments",
            issue,
            paging,
            issue_reads.comment_pages,
            self.comment_count,
            lambda row: Comment.of(comments.row_view(row)),
        )

    async def project_labels(self, project: int, paging: PageArgs) -> Connection[Label]:
        """`Project.labels`: by name (ignoring case)."""
        totals = self.loader("project.labels.count", nested_reads.label_counts)
        return await self._nested(
            "project.labels",
            project,
            paging,
            nested_reads.label_pages,
            totals,
            lambda row: Label.of(labels.row_view(row)),
        )

    async def workspace_projects(self, workspace: int, paging: PageArgs) -> Connection[Project]:
        """`Workspace.projects`: by key."""
        totals = self.loader("workspace.projects.count", nested_reads.project_counts)
        return await self._nested(
            "workspace.projects",
            workspace,
            paging,
            nested_reads.project_pages,
            totals,
            lambda row: Project.of(projects.row_view(row)),
        )

    async def workspace_members(self, workspace: int, paging: PageArgs) -> Connection[Membership]:
        """`Workspace.members`: in the order they joined."""
        totals = self.loader("workspace.members.count", nested_reads.member_counts)
        return await self._nested(
            "workspace.members",
            workspace,
            paging,
            nested_reads.member_pages,
            totals,
            lambda row: Membership.of(members.row_view(row)),
        )

    async def workspace_events(self, workspace: int, paging: PageArgs) -> Connection[Event]:
        """`Workspace.events`: the activity feed, newest first."""
        totals = self.loader("workspace.events.count", nested_reads.event_counts)
        return await self._nested(
            "workspace.events",
            workspace,
            paging,
            nested_reads.event_pages,
            totals,
            lambda row: Event.of(feed.row_view(row)),
        )

    async def webhook_deliveries(
        self, webhook: int, paging: PageArgs
    ) -> Connection[WebhookDelivery]:
        """`Webhook.deliveries`: newest first."""
        totals = self.loader("webhook.deliveries.count", webhooks.delivery_counts)
        return await self._nested(
            "webhook.deliveries",
            webhook,
            paging,
            webhooks.delivery_pages,
            totals,
            lambda row: WebhookDelivery.of(webhooks.delivery_row_view(row)),
        )

    async def user_workspaces(self, user: int, paging: PageArgs) -> Connection[Workspace]:
        """`User.workspaces`: those the caller can see (all of them for the user themself or a
        site admin, else the shared ones)."""
        page = await workspaces.list_user_workspaces(self._context.viewer, user, **paging)
        return to_connection(page, lambda row: Workspace.of(workspaces.row_view(row)))

    async def viewer_invitations(
        self, user: int, paging: PageArgs
    ) -> Connection[Invitation] | None:
        """`User.invitations`: null on anyone but the viewer."""
        viewer = self._context.viewer
        if user != viewer.user_id:
            return None
        page = await invitations.list_my_invitations(viewer, **paging)
        return to_connection(page, lambda row: Invitation.of(invitations.row_view(row)))

    async def workspace_invitations(
        self, workspace: int, paging: PageArgs
    ) -> Connection[Invitation]:
        """`Workspace.invitations` (admins)."""
        page = await invitations.list_invitations(self._context.viewer, workspace, **paging)
        return to_connection(page, lambda row: Invitation.of(invitations.row_view(row)))

    async def workspace_webhooks(self, workspace: int, paging: PageArgs) -> Connection[Webhook]:
        """`Workspace.webhooks` (admins)."""
        page = await webhooks.list_webhooks(self._context.viewer, workspace, **paging)
        return to_connection(page, lambda row: Webhook.of(webhooks.row_view(row)))


class ClearLoaders(FieldExtension):
    """Forgets the request's loaded values once a mutation's resolver returns, before its
    payload is resolved: every read after a write (the payload, and the rest of the document,
    as mutations run one after another) loads afresh, never a value from before the write."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        finally:  # a failed mutation may have written too (one of several steps)
            info.context.loaders.clear()


def clear_loaders_after_each(mutation: type) -> type:
    """`mutation` (the root Mutation type), each of its fields wrapped in `ClearLoaders`."""
    definition = get_object_definition(mutation, strict=True)
    for field in definition.fields:
        if not any(isinstance(e, ClearLoaders) for e in field.extensions):
            field.extensions.append(ClearLoaders())
    return mutation
