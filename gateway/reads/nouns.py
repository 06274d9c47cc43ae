"""Each noun's readable shape, declared once for REST, GraphQL and SQL.

Names are the domain's (`domain.md`): REST uses them as they are, GraphQL in camelCase; each
value's type, nullability and description serve REST's models (`gateway.rest.shapes`), the
GraphQL types (`schema.declared`) and the compiler alike. Visibility is not repeated per noun:
everything is read inside a workspace the caller may see (`gateway.reads.compiler.visible`),
the rule `gateway.services.access` enforces for writes; the few lists with rules of their own
(another user's workspaces, invitations) say them as SQL in `gateway.reads.expressions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from gateway.reads import expressions as sql
from gateway.reads.model import Connection, Kind, Noun, Scalar, ToMany, ToOne
from gateway.repositories.comments import OLDEST_FIRST
from gateway.repositories.events import NEWEST_FIRST
from gateway.repositories.invitations import NEWEST_FIRST as INVITED_LAST
from gateway.repositories.issues import ORDERINGS as ISSUE_ORDERINGS
from gateway.repositories.labels import BY_NAME
from gateway.repositories.members import JOINED
from gateway.repositories.projects import BY_KEY
from models import InvitationState, IssuePriority, IssueState, Role


def _spellings(values: Mapping[object, str]) -> Mapping[object, str]:
    return MappingProxyType(dict(values))


ROLES: Final = _spellings({role.value: role.value for role in Role})
STATES: Final = _spellings({state.value: state.value for state in IssueState})
PRIORITIES: Final = _spellings({p.value: p.name for p in IssuePriority})
INVITATION_STATES: Final = _spellings({s.value: s.value for s in InvitationState})


def _id() -> Scalar:
    return Scalar("id", Kind.node_id, "The global ID (GraphQL `id`, REST `node_id`).", column="id")


def _column(name: str, kind: Kind, doc: str, **options: Any) -> Scalar:
    return Scalar(name, kind, doc, column=name, **options)


def _version(doc: str = 'Grows with every change; the ETag is `"v<version>"`.') -> Scalar:
    return _column("version", Kind.integer, doc)


def _created(what: str) -> Scalar:
    return _column("created_at", Kind.timestamp, f"When the {what} was created.")


def _updated(what: str) -> Scalar:
    return _column("updated_at", Kind.timestamp, f"When the {what} last changed.")


USER: Final = Noun(
    "User",
    "users",
    (
        _id(),
        _column("username", Kind.text, "Unique; a-z, 0-9 and `-`, 2 to 39 long."),
        _column("display_name", Kind.text, "The name to show; may be empty."),
        Scalar(
            "email",
            Kind.text,
            "Only visible to the user themselves and to site admins; null otherwise.",
            compute=sql.email,
            nullable=True,
        ),
        _column(
            "is_site_admin", Kind.boolean, "Whether the user may read and manage every workspace."
        ),
        _version(),
        _column("created_at", Kind.timestamp, "When the account was created."),
    ),
    (
        Connection(
            "workspaces",
            "Membership",
            "user_id",
            {"joined": JOINED},
            scope_prefix="workspaces-of:",
            through="workspace",
            rows=sql.shared_rows,
            scope_suffix=sql.shared_scope,
        ),
        Connection(
            "invitations",
            "Invitation",
            None,
            {"newest": INVITED_LAST},
            scope_prefix="invitations-to:",
            rows=sql.addressed_to,
            guard=sql.only_yourself,
        ),
    ),
)

_SLUG = "Unique; a-z, 0-9 and `-`, 2 to 39 long."
_NAME = "1 to 100 characters."

WORKSPACE: Final = Noun(
    "Workspace",
    "workspaces",
    (
        _id(),
        _column("slug", Kind.text, _SLUG),
        _column("name", Kind.text, _NAME),
        Scalar(
            "viewer_role",
            Kind.enum,
            "Your role here (a site admin is OWNER everywhere).",
            compute=sql.viewer_role,
            enum=ROLES,
        ),
        _version(),
        _created("workspace"),
        _updated("workspace"),
    ),
    (
        Connection(
            "members", "Membership", "workspace_id", {"joined": JOINED}, scope_prefix="members-of:"
        ),
        Connection(
            "projects", "Project", "workspace_id", {"key": BY_KEY}, scope_prefix="projects-of:"
        ),
        Connection(
            "events",
            "Event",
            "workspace_id",
            {"newest": NEWEST_FIRST},
            scope_prefix="",
            filter="events",
        ),
        Connection(
            "invitations",
            "Invitation",
            "workspace_id",
            {"newest": INVITED_LAST},
            scope_prefix="invitations-of:",
            rows=sql.unanswered,
            guard=sql.manages,
        ),
    ),
)

MEMBERSHIP: Final = Noun(
    "Membership",
    "memberships",
    (
        _id(),
        _column("role", Kind.enum, "What the member may do in the workspace.", enum=ROLES),
        _version(),
        _column("created_at", Kind.timestamp, "When the user joined the workspace."),
        _column("updated_at", Kind.timestamp, "When the role last changed."),
    ),
    (
        ToOne("user", "User", "user_id", "The member."),
        ToOne("workspace", "Workspace", "workspace_id", "The workspace."),
    ),
)

PROJECT: Final = Noun(
    "Project",
    "projects",
    (
        _id(),
        _column("key", Kind.text, "Unique in the workspace, e.g. `WEB`."),
        _column("name", Kind.text, _NAME),
        _column("description", Kind.text, "Up to 10,000 characters; may be empty."),
        _column("is_archived", Kind.boolean, "Archived projects are read-only."),
        Scalar(
            "issue_count",
            Kind.integer,
            "Issues ever created in the project.",
            column="issue_counter",
        ),
        _version(),
        _created("project"),
        _updated("project"),
    ),
    (
        ToOne("workspace", "Workspace", "workspace_id", "The workspace the project belongs to."),
        Connection("labels", "Label", "project_id", {"name": BY_NAME}, scope_prefix="labels-of:"),
        Connection(
            "issues",
            "Issue",
            "project_id",
            {f"{sort}{'-' if desc else ''}": o for (sort, desc), o in ISSUE_ORDERINGS.items()},
            filter="issues",
        ),
    ),
)

LABEL: Final = Noun(
    "Label",
    "labels",
    (
        _id(),
        _column("name", Kind.text, "Unique in the project, ignoring case; 1 to 50."),
        _column("color", Kind.text, "`#rrggbb`, lower-case."),
        _column("description", Kind.text, "Up to 200 characters; may be empty."),
        _version(),
        _created("label"),
        _updated("label"),
    ),
)

ISSUE: Final = Noun(
    "Issue",
    "issues",
    (
        _id(),
        _column("number", Kind.integer, "Sequential per project from 1; never reused."),
        _column("title", Kind.text, "1 to 256 characters."),
        _column("body", Kind.text, "Markdown, up to 65,536 characters."),
        _column("state", Kind.enum, "Whether the issue is open or closed.", enum=STATES),
        _column("priority", Kind.enum, "How urgent the issue is.", enum=PRIORITIES),
        _column("due_date", Kind.date, "When it is due; null if never.", nullable=True),
        Scalar(
            "comment_count", Kind.integer, "How many comments it has.", compute=sql.comment_count
        ),
        Scalar(
            "project_key",
            Kind.text,
            "The key of the issue's project (its REST path).",
            compute=sql.project_key,
            graphql=False,
        ),
        _version('Grows with every change (`expectedVersion`; the ETag is `"v<version>"`).'),
        _column(
            "closed_at", Kind.timestamp, "When it was last closed; null while open.", nullable=True
        ),
        _created("issue"),
        _updated("issue"),
    ),
    (
        ToOne("author", "User", "author_id", "Who opened the issue."),
        ToOne("assignee", "User", "assignee_id", "Who works on it; null if nobody.", nullable=True),
        ToOne("project", "Project", "project_id", "The project the issue belongs to."),
        ToMany(
            "labels",
            "Label",
            "issue_labels",
            "issue_id",
            "label_id",
            ("name_key", "id"),
            "The issue's labels, by name (ignoring case).",
        ),
        Connection("comments", "Comment", "issue_id", {"oldest": OLDEST_FIRST}, scope_prefix=""),
    ),
)

COMMENT: Final = Noun(
    "Comment",
    "comments",
    (
        _id(),
        Scalar("pk", Kind.integer, "The comment's id in REST paths.", column="id", graphql=False),
        Scalar(
            "issue_id",
            Kind.ref,
            "The global ID of the issue.",
            compute=sql.issue_node_id,
            graphql=False,
        ),
        _column("body", Kind.text, "Markdown, 1 to 65,536 characters."),
        _version(),
        _column(
            "edited_at",
            Kind.timestamp,
            "When the body last changed; null if it never did.",
            nullable=True,
        ),
        _column("created_at", Kind.timestamp, "When the comment was written."),
        _updated("comment"),
    ),
    (
        ToOne("author", "User", "author_id", "Who wrote the comment."),
        ToOne("issue", "Issue", "issue_id", "The issue the comment is on."),
    ),
)


def _ref(type_name: str, column: str, doc: str) -> Scalar:
    # REST names the project and issue concerned by global id, even once they are gone.
    compute = sql.global_id(type_name, column)
    return Scalar(column, Kind.ref, doc, compute=compute, nullable=True, graphql=False)


EVENT: Final = Noun(
    "Event",
    "events",
    (
        _id(),
        _column("type", Kind.text, "What happened, e.g. `issue.created` or `comment.deleted`."),
        _column(
            "subject_id",
            Kind.ref,
            "The global ID of the object the event is about (it may no longer exist).",
        ),
        _column("data", Kind.json, "Details of the change, depending on `type`."),
        _ref("Project", "project_id", "The global ID of the project concerned, if any."),
        _ref("Issue", "issue_id", "The global ID of the issue concerned, if any."),
        _column("created_at", Kind.timestamp, "When the change was committed."),
    ),
    (
        # An event outlives what it names: a deleted actor, project or issue reads as null.
        ToOne(
            "actor", "User", "actor_id", "Who made the change; null once deleted.", nullable=True
        ),
        ToOne("project", "Project", "project_id", "The project concerned, if any.", nullable=True),
        ToOne("issue", "Issue", "issue_id", "The issue concerned, if any.", nullable=True),
    ),
)

_USER_GONE = "null once their account is gone or deactivated"

INVITATION: Final = Noun(
    "Invitation",
    "invitations",
    (
        _id(),
        Scalar("pk", Kind.integer, "Names the invitation in paths.", column="id", graphql=False),
        _column("role", Kind.enum, "The role the invitee gets by accepting.", enum=ROLES),
        Scalar(
            "state",
            Kind.enum,
            "Expired once unanswered past `expires_at`.",
            compute=sql.invitation_state,
            enum=INVITATION_STATES,
        ),
        Scalar(
            "email",
            Kind.text,
            "The invited address (lower-cased); null for an invitation by username.",
            column="email_key",
            nullable=True,
        ),
        _column("expires_at", Kind.timestamp, "After this it can no longer be accepted."),
        _column(
            "responded_at",
            Kind.timestamp,
            "When it was answered or revoked.",
            nullable=True,
        ),
        _version(),
        _column("created_at", Kind.timestamp, "When it was sent."),
        _updated("invitation"),
    ),
    (
        ToOne(
            "workspace",
            "Workspace",
            "workspace_id",
            "The workspace it invites to.",
            graphql_type="WorkspaceInfo",
        ),
        ToOne(
            "invitee",
            "User",
            "invitee_id",
            f"The invited account; null for an invitation by email, {_USER_GONE}.",
            nullable=True,
            active_only=True,
        ),
        ToOne(
            "inviter",
            "User",
            "inviter_id",
            f"Who sent it; {_USER_GONE}.",
            nullable=True,
            active_only=True,
        ),
    ),
)

NOUNS: Final[Mapping[str, Noun]] = MappingProxyType(
    {
        n.name: n
        for n in (USER, WORKSPACE, MEMBERSHIP, PROJECT, LABEL, ISSUE, COMMENT, EVENT, INVITATION)
    }
)


def node_noun(connection: Connection) -> Noun:
    """The noun of a list's items: its target's, or the one it reaches `through`."""
    target = NOUNS[connection.target]
    if connection.through is None:
        return target
    through = target.get(connection.through)
    assert isinstance(through, ToOne)
    return NOUNS[through.target]
