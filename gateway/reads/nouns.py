"""Each noun's readable shape, declared once for REST, GraphQL and SQL.

Names are the domain's (`domain.md`): REST uses them as they are, GraphQL in camelCase.
Visibility is not repeated per noun: everything is read inside a workspace the caller may see
(`gateway.reads.compiler.visible`), the rule `gateway.services.access` enforces for writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from gateway.reads import encoding
from gateway.reads.encoding import node_id_sql
from gateway.reads.model import Connection, Kind, Noun, Scalar, Scope, ToMany, ToOne
from gateway.repositories.comments import OLDEST_FIRST
from gateway.repositories.events import NEWEST_FIRST
from gateway.repositories.issues import ORDERINGS as ISSUE_ORDERINGS
from gateway.repositories.labels import BY_NAME
from gateway.repositories.members import JOINED
from gateway.repositories.projects import BY_KEY
from models import IssuePriority, IssueState, Role


def _spellings(values: Mapping[object, str]) -> Mapping[object, str]:
    return MappingProxyType(dict(values))


ROLES: Final = _spellings({role.value: role.value for role in Role})
STATES: Final = _spellings({state.value: state.value for state in IssueState})
PRIORITIES: Final = _spellings({p.value: p.name for p in IssuePriority})


def _id() -> Scalar:
    return Scalar("id", Kind.node_id, column="id")


def _times(*names: str) -> tuple[Scalar, ...]:
    return tuple(Scalar(name, Kind.timestamp, column=name) for name in names)


def _email(scope: Scope) -> str:
    # Only the user themselves and site admins see an address.
    me = f"{scope.alias}.id = {scope.viewer}"
    return f"CASE WHEN {me} OR {scope.admin} THEN {scope.alias}.email END"


def _viewer_role(scope: Scope) -> str:
    # A site admin acts as an owner everywhere (gateway.services.access.effective_role).
    mine = (
        f"(SELECT m.role FROM memberships m WHERE m.workspace_id = {scope.alias}.id"
        f" AND m.user_id = {scope.viewer})"
    )
    return f"CASE WHEN {scope.admin} THEN '{Role.owner.value}' ELSE {mine} END"


def _global_id(type_name: str, column: str) -> Callable[[Scope], str]:
    """The global id of another noun's row named by `column` (null when it is)."""

    def compute(scope: Scope) -> str:
        return node_id_sql(scope.dialect, type_name, f"{scope.alias}.{column}")

    return compute


def _project_key(scope: Scope) -> str:
    return f"(SELECT pk.key FROM projects pk WHERE pk.id = {scope.alias}.project_id)"


def _issue_node_id(scope: Scope) -> str:
    return encoding.node_id_sql(scope.dialect, "Issue", f"{scope.alias}.issue_id")


def _comment_count(scope: Scope) -> str:
    return f"(SELECT count(*) FROM comments c WHERE c.issue_id = {scope.alias}.id)"


USER: Final = Noun(
    "User",
    "users",
    (
        _id(),
        Scalar("username", Kind.text, column="username"),
        Scalar("display_name", Kind.text, column="display_name"),
        Scalar("email", Kind.text, compute=_email),
        Scalar("is_site_admin", Kind.boolean, column="is_site_admin"),
        Scalar("version", Kind.integer, column="version"),
        *_times("created_at"),
    ),
)

WORKSPACE: Final = Noun(
    "Workspace",
    "workspaces",
    (
        _id(),
        Scalar("slug", Kind.text, column="slug"),
        Scalar("name", Kind.text, column="name"),
        Scalar("viewer_role", Kind.enum, compute=_viewer_role, enum=ROLES),
        Scalar("version", Kind.integer, column="version"),
        *_times("created_at", "updated_at"),
    ),
    (
        Connection(
            "members", "Membership", "workspace_id", {"joined": JOINED}, scope_prefix="members-of:"
        ),
        Connection(
            "projects", "Project", "workspace_id", {"key": BY_KEY}, scope_prefix="projects-of:"
        ),
        Connection("events", "Event", "workspace_id", {"newest": NEWEST_FIRST}, scope_prefix=""),
    ),
)

MEMBERSHIP: Final = Noun(
    "Membership",
    "memberships",
    (
        _id(),
        Scalar("role", Kind.enum, column="role", enum=ROLES),
        Scalar("version", Kind.integer, column="version"),
        *_times("created_at", "updated_at"),
    ),
    (ToOne("user", "User", "user_id"), ToOne("workspace", "Workspace", "workspace_id")),
)

PROJECT: Final = Noun(
    "Project",
    "projects",
    (
        _id(),
        Scalar("key", Kind.text, column="key"),
        Scalar("name", Kind.text, column="name"),
        Scalar("description", Kind.text, column="description"),
        Scalar("is_archived", Kind.boolean, column="is_archived"),
        Scalar("issue_count", Kind.integer, column="issue_counter"),
        Scalar("version", Kind.integer, column="version"),
        *_times("created_at", "updated_at"),
    ),
    (
        ToOne("workspace", "Workspace", "workspace_id"),
        Connection("labels", "Label", "project_id", {"name": BY_NAME}, scope_prefix="labels-of:"),
        Connection(
            "issues",
            "Issue",
            "project_id",
            {f"{sort}{'-' if desc else ''}": o for (sort, desc), o in ISSUE_ORDERINGS.items()},
            filtered=True,
        ),
    ),
)

LABEL: Final = Noun(
    "Label",
    "labels",
    (
        _id(),
        Scalar("name", Kind.text, column="name"),
        Scalar("color", Kind.text, column="color"),
        Scalar("description", Kind.text, column="description"),
        Scalar("version", Kind.integer, column="version"),
        *_times("created_at", "updated_at"),
    ),
)

ISSUE: Final = Noun(
    "Issue",
    "issues",
    (
        _id(),
        Scalar("number", Kind.integer, column="number"),
        Scalar("title", Kind.text, column="title"),
        Scalar("body", Kind.text, column="body"),
        Scalar("state", Kind.enum, column="state", enum=STATES),
        Scalar("priority", Kind.enum, column="priority", enum=PRIORITIES),
        Scalar("due_date", Kind.date, column="due_date"),
        Scalar("comment_count", Kind.integer, compute=_comment_count),
        Scalar("project_key", Kind.text, compute=_project_key),
        Scalar("version", Kind.integer, column="version"),
        *_times("closed_at", "created_at", "updated_at"),
    ),
    (
        ToOne("author", "User", "author_id"),
        ToOne("assignee", "User", "assignee_id", nullable=True),
        ToOne("project", "Project", "project_id"),
        ToMany("labels", "Label", "issue_labels", "issue_id", "label_id", ("name_key", "id")),
        Connection("comments", "Comment", "issue_id", {"oldest": OLDEST_FIRST}, scope_prefix=""),
    ),
)

COMMENT: Final = Noun(
    "Comment",
    "comments",
    (
        _id(),
        Scalar("pk", Kind.integer, column="id"),  # REST's `id`, in its paths
        Scalar("issue_id", Kind.text, compute=_issue_node_id),  # REST: the issue's global id
        Scalar("body", Kind.text, column="body"),
        Scalar("version", Kind.integer, column="version"),
        *_times("edited_at", "created_at", "updated_at"),
    ),
    (ToOne("author", "User", "author_id"), ToOne("issue", "Issue", "issue_id")),
)

EVENT: Final = Noun(
    "Event",
    "events",
    (
        _id(),
        Scalar("type", Kind.text, column="type"),
        Scalar("subject_id", Kind.text, column="subject_id"),
        Scalar("data", Kind.json, column="data"),
        # REST names the project and issue concerned by global id, even once they are gone.
        Scalar("project_id", Kind.text, compute=_global_id("Project", "project_id")),
        Scalar("issue_id", Kind.text, compute=_global_id("Issue", "issue_id")),
        *_times("created_at"),
    ),
    (
        # An event outlives what it names: a deleted actor, project or issue reads as null.
        ToOne("actor", "User", "actor_id", nullable=True),
        ToOne("project", "Project", "project_id", nullable=True),
        ToOne("issue", "Issue", "issue_id", nullable=True),
    ),
)

NOUNS: Final[Mapping[str, Noun]] = MappingProxyType(
    {n.name: n for n in (USER, WORKSPACE, MEMBERSHIP, PROJECT, LABEL, ISSUE, COMMENT, EVENT)}
)
