"""GraphQL issue enums and inputs: `IssueState`, `IssuePriority`, `IssueFilter`, `IssueOrder`
and the inputs of the issue mutations.

Enum values are the REST strings (`open`, `high`, `number`), so translating to the services'
rules is `.value`; the filter canonicalises through the same `make_filter` REST uses.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

import strawberry

from gateway.repositories.issues import IssueFilter as DomainFilter
from gateway.services import issues
from gateway.services.issue_inputs import MAX_LABELS
from schema.inputs import expected_version_field


@strawberry.enum(description="Whether an issue is open or closed.")
class IssueState(Enum):
    OPEN = strawberry.enum_value("open", description="Still to be done.")
    CLOSED = strawberry.enum_value("closed", description="Done or abandoned; `closedAt` is set.")


@strawberry.enum(description="How urgent an issue is, lowest first.")
class IssuePriority(Enum):
    NONE = strawberry.enum_value("none", description="Not prioritised (the default).")
    LOW = strawberry.enum_value("low", description="Low.")
    MEDIUM = strawberry.enum_value("medium", description="Medium.")
    HIGH = strawberry.enum_value("high", description="High.")
    URGENT = strawberry.enum_value("urgent", description="Urgent.")


@strawberry.enum(description="Which issues a list shows by state.")
class IssueStateFilter(Enum):
    OPEN = strawberry.enum_value("open", description="Open issues only (the default).")
    CLOSED = strawberry.enum_value("closed", description="Closed issues only.")
    ALL = strawberry.enum_value("all", description="Every issue.")


@strawberry.enum(description="What an issue list is sorted by; ties go by creation.")
class IssueOrderField(Enum):
    NUMBER = strawberry.enum_value("number", description="The issue number.")
    CREATED = strawberry.enum_value("created", description="When the issue was created.")
    UPDATED = strawberry.enum_value("updated", description="When the issue last changed.")
    PRIORITY = strawberry.enum_value("priority", description="The priority.")


@strawberry.enum(description="A sort direction.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("asc", description="Smallest (or oldest) first.")
    DESC = strawberry.enum_value("desc", description="Largest (or newest) first.")


@strawberry.input(description="Which issues to list; the same filters as the REST list.")
class IssueFilter:
    state: IssueStateFilter = strawberry.field(
        default=IssueStateFilter.OPEN, description="By state; OPEN unless given."
    )
    assignee: str | None = strawberry.field(
        default=None, description="Assigned to this username, or `none` for unassigned."
    )
    labels: list[str] | None = strawberry.field(
        default=None,
        description=f"Carrying every one of these label names (any case); at most {MAX_LABELS}.",
    )
    q: str | None = strawberry.field(
        default=None, description="Title or body contains this text (any case)."
    )

    def canonical(self) -> DomainFilter:
        """The filter in the services' canonical form (which cursors are bound to)."""
        return issues.make_filter(
            str(self.state.value), self.assignee, self.labels, self.q, labels_field="filter.labels"
        )


@strawberry.input(description="The order of an issue list.")
class IssueOrder:
    field: IssueOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(description="Which way.")


@strawberry.input(description="A new issue in a project.")
class CreateIssueInput:
    project_id: strawberry.ID = strawberry.field(description="The project's global ID.")
    title: str = strawberry.field(description="1 to 256 characters, trimmed.")
    body: str | None = strawberry.field(
        default=strawberry.UNSET, description="Markdown, up to 65,536 characters."
    )
    priority: IssuePriority | None = strawberry.field(
        default=strawberry.UNSET, description="NONE unless given."
    )
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A workspace member's user global ID."
    )
    label_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"Global IDs of the project's labels; at most {MAX_LABELS}.",
    )
    due_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="When the issue is due."
    )


@strawberry.input(description="Changes to an issue; omitted fields stay as they are.")
class UpdateIssueInput:
    id: strawberry.ID = strawberry.field(description="The issue's global ID.")
    expected_version: int | None = expected_version_field("issue")
    title: str | None = strawberry.field(
        default=strawberry.UNSET, description="1 to 256 characters."
    )
    body: str | None = strawberry.field(
        default=strawberry.UNSET, description="Markdown, up to 65,536 characters."
    )
    priority: IssuePriority | None = strawberry.field(
        default=strawberry.UNSET, description="The new priority."
    )
    assignee_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="A member's user global ID; null unassigns."
    )
    label_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description=f"Replaces the whole label set; at most {MAX_LABELS}.",
    )
    due_date: date | None = strawberry.field(
        default=strawberry.UNSET, description="The new due date; null clears it."
    )
    state: IssueState | None = strawberry.field(
        default=strawberry.UNSET,
        description="CLOSED sets `closedAt`, OPEN clears it (as closeIssue / reopenIssue).",
    )


@strawberry.input(description="The issue to close.")
class CloseIssueInput:
    id: strawberry.ID = strawberry.field(description="The issue's global ID.")


@strawberry.input(description="The issue to reopen.")
class ReopenIssueInput:
    id: strawberry.ID = strawberry.field(description="The issue's global ID.")


@strawberry.input(description="The issue to delete.")
class DeleteIssueInput:
    id: strawberry.ID = strawberry.field(description="The issue's global ID.")
