"""GraphQL issue mutations: `createIssue`, `updateIssue`, `closeIssue`, `reopenIssue`,
`deleteIssue`.

Resolvers only translate: scalar fields into the REST input models (`IssueCreate`,
`IssuePatch`, so the same rules fail on the same field names), global IDs into primary keys
(`Refs` for the assignee and labels, which the service resolves as it resolves REST's names).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.core.errors import NotFound, ValidationFailed
from gateway.core.ids import pk_of
from gateway.core.validation import validated
from gateway.services import issues
from gateway.services.issue_inputs import IssueCreate, IssuePatch, Refs, State
from gateway.services.issue_views import node_id
from schema.context import Context
from schema.inputs import given
from schema.issue_inputs import (
    CloseIssueInput,
    CreateIssueInput,
    DeleteIssueInput,
    ReopenIssueInput,
    UpdateIssueInput,
)
from schema.issues import Issue


def _value(choice: Enum | None) -> object:
    """An enum input as its REST string; UNSET and null pass through for the model to judge."""
    return choice.value if isinstance(choice, Enum) else choice


def _ref(global_id: str, type_name: str, field: str) -> int:
    """The primary key of an input naming another object; VALIDATION_FAILED on `field` (the
    REST field name) when it is not an id of that type."""
    try:
        return pk_of(global_id, type_name)
    except NotFound:
        raise ValidationFailed.on(field, f"is not a {type_name} id") from None


def _refs(assignee_id: strawberry.ID | None, label_ids: list[strawberry.ID] | None) -> Refs:
    given_assignee = assignee_id is not strawberry.UNSET
    assignee = None
    if given_assignee and assignee_id is not None:
        assignee = _ref(assignee_id, "User", "assignee")
    labels = None
    if label_ids is not strawberry.UNSET and label_ids is not None:
        labels = [_ref(x, "Label", "labels") for x in label_ids]
    return Refs(assignee=assignee, has_assignee=given_assignee, labels=labels)


def _fields(input: CreateIssueInput | UpdateIssueInput) -> dict[str, Any]:
    fields = given(
        title=input.title,
        body=input.body,
        priority=_value(input.priority),
        due_date=input.due_date,
    )
    if input.label_ids is None:  # an explicit null: refused by the model, as on REST
        fields["labels"] = None
    return fields


async def _set_state(info: Info[Context, None], issue_id: strawberry.ID, state: State) -> Issue:
    """`closeIssue` and `reopenIssue`: `updateIssue` with only the state."""
    patch = IssuePatch(state=state)
    return Issue.of(await issues.update_issue(info.context.viewer, pk_of(issue_id, "Issue"), patch))


@strawberry.type(description="The result of `createIssue`.")
class CreateIssuePayload:
    issue: Issue = strawberry.field(description="The new issue.")


@strawberry.type(description="The result of `updateIssue`.")
class UpdateIssuePayload:
    issue: Issue = strawberry.field(description="The issue, changed.")


@strawberry.type(description="The result of `closeIssue`.")
class CloseIssuePayload:
    issue: Issue = strawberry.field(description="The issue, closed.")


@strawberry.type(description="The result of `reopenIssue`.")
class ReopenIssuePayload:
    issue: Issue = strawberry.field(description="The issue, open again.")


@strawberry.type(description="The result of `deleteIssue`.")
class DeleteIssuePayload:
    deleted_id: strawberry.ID = strawberry.field(description="The deleted issue's global ID.")


@strawberry.type
class IssueMutation:
    @strawberry.mutation(
        description="Create an issue (members and up); it gets the project's next number."
        " VALIDATION_FAILED on `assignee` for a non-member, on `labels` for a label not of"
        " the project; CONFLICT when the project is archived."
    )
    async def create_issue(
        self, info: Info[Context, None], input: CreateIssueInput
    ) -> CreateIssuePayload | None:
        data = validated(IssueCreate, _fields(input))
        refs = _refs(input.assignee_id, input.label_ids)
        project = pk_of(input.project_id, "Project")
        view = await issues.create_issue(info.context.viewer, project, data, refs)
        return CreateIssuePayload(issue=Issue.of(view))

    @strawberry.mutation(
        description="Change an issue (members and up): omitted fields stay, `assigneeId: null`"
        " unassigns, `labelIds` replaces the set, `dueDate: null` clears it. PRECONDITION_FAILED"
        " when `expectedVersion` is stale."
    )
    async def update_issue(
        self, info: Info[Context, None], input: UpdateIssueInput
    ) -> UpdateIssuePayload | None:
        fields = _fields(input)
        fields.update(given(state=_value(input.state)))
        patch = validated(IssuePatch, fields)
        refs = _refs(input.assignee_id, input.label_ids)
        issue = pk_of(input.id, "Issue")
        view = await issues.update_issue(
            info.context.viewer, issue, patch, input.expected_version, refs
        )
        return UpdateIssuePayload(issue=Issue.of(view))

    @strawberry.mutation(description="Close an issue (members and up); sets `closedAt`.")
    async def close_issue(
        self, info: Info[Context, None], input: CloseIssueInput
    ) -> CloseIssuePayload | None:
        return CloseIssuePayload(issue=await _set_state(info, input.id, "closed"))

    @strawberry.mutation(description="Reopen an issue (members and up); clears `closedAt`.")
    async def reopen_issue(
        self, info: Info[Context, None], input: ReopenIssueInput
    ) -> ReopenIssuePayload | None:
        return ReopenIssuePayload(issue=await _set_state(info, input.id, "open"))

    @strawberry.mutation(description="Delete an issue and its comments (admins and owners).")
    async def delete_issue(
        self, info: Info[Context, None], input: DeleteIssueInput
    ) -> DeleteIssuePayload | None:
        issue = pk_of(input.id, "Issue")
        await issues.delete_issue(info.context.viewer, issue)
        return DeleteIssuePayload(deleted_id=strawberry.ID(node_id(issue)))
