"""Each noun's readable shape, declared once for REST, GraphQL and SQL.

Names are the domain's (`domain.md`): REST uses them as they are, GraphQL in camelCase; each
value's type, nullability and description serve REST's models (`gateway.rest.shapes`), the
GraphQL types (`schema.declared`) and the compiler alike. Visibility is not repeated per noun:
everything is read inside a workspace the caller may see
(`gateway.reads.keysets.KeysetCompiler.visible`), the rule `gateway.services.access` enforces
for writes; the few lists with rules of their own (another user's workspaces, invitations) say
them as SQL in `gateway.reads.expressions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from gateway.reads import expressions as sql
from gateway.reads.admin_nouns import INVITATION, WEBHOOK, WEBHOOK_DELIVERY
from gateway.reads.fields import (
    PRIORITIES,
    ROLES,
    STATES,
    column,
    created,
    node_id,
    nullable,
    updated,
    version,
)
from gateway.reads.model import Connection, Kind, Noun, Scalar, ToMany, ToOne
from gateway.repositories.comments import OLDEST_FIRST
from gateway.repositories.events import NEWEST_FIRST
from gateway.repositories.invitations import NEWEST_FIRST as INVITED_LAST
from gateway.repositories.issues import ORDERINGS as ISSUE_ORDERINGS
from gateway.repositories.labels import BY_NAME
from gateway.repositories.members import JOINED
from gateway.repositories.projects import BY_KEY
from gateway.repositories.webhooks import OLDEST_FIRST as REGISTERED_FIRST

USER: Final = Noun(
    "User",
    "users",
    (
        node_id(),
        column("username", Kind.text, "Unique; a-z, 0-9 and `-`, 2 to 39 long."),
        column("display_name", Kind.text, "The name to show; may be empty."),
        Scalar(
            "email",
            Kind.text,
            "Only visible to the user themselves and to site admins; null otherwise.",
            compute=sql.email,
            nullable=True,
        ),
        column(
            "is_site_admin", Kind.boolean, "Whether the user may read and manage every workspace."
        ),
        version(),
        created("account"),
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
        node_id(),
        column("slug", Kind.text, _SLUG),
        column("name", Kind.text, _NAME),
        Scalar(
            "viewer_role",
            Kind.enum,
            "Your role here (a site admin is OWNER everywhere).",
            compute=sql.viewer_role,
            enum=ROLES,
        ),
        version(),
        created("workspace"),
        updated("workspace"),
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
        Connection(
            "webhooks",
            "Webhook",
            "workspace_id",
            {"oldest": REGISTERED_FIRST},
            scope_prefix="webhooks-of:",
            guard=sql.manages,
        ),
    ),
)

MEMBERSHIP: Final = Noun(
    "Membership",
    "memberships",
    (
        node_id(),
        column("role", Kind.enum, "What the member may do in the workspace.", enum=ROLES),
        version(),
        column("created_at", Kind.timestamp, "When the user joined the workspace."),
        column("updated_at", Kind.timestamp, "When the role last changed."),
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
        node_id(),
        column("key", Kind.text, "Unique in the workspace, e.g. `WEB`."),
        column("name", Kind.text, _NAME),
        column("description", Kind.text, "Up to 10,000 characters; may be empty."),
        column("is_archived", Kind.boolean, "Archived projects are read-only."),
        Scalar(
            "issue_count",
            Kind.integer,
            "Issues ever created in the project.",
            column="issue_counter",
        ),
        version(),
        created("project"),
        updated("project"),
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
        node_id(),
        column("name", Kind.text, "Unique in the project, ignoring case; 1 to 50."),
        column("color", Kind.text, "`#rrggbb`, lower-case."),
        column("description", Kind.text, "Up to 200 characters; may be empty."),
        version(),
        created("label"),
        updated("label"),
    ),
)

ISSUE: Final = Noun(
    "Issue",
    "issues",
    (
        node_id(),
        column("number", Kind.integer, "Sequential per project from 1; never reused."),
        column("title", Kind.text, "1 to 256 characters."),
        column("body", Kind.text, "Markdown, up to 65,536 characters."),
        column("state", Kind.enum, "Whether the issue is open or closed.", enum=STATES),
        column("priority", Kind.enum, "How urgent the issue is.", enum=PRIORITIES),
        nullable("due_date", Kind.date, "When it is due; null if never."),
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
        version('Grows with every change (`expectedVersion`; the ETag is `"v<version>"`).'),
        nullable("closed_at", Kind.timestamp, "When it was last closed; null while open."),
        created("issue"),
        updated("issue"),
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
        node_id(),
        Scalar("pk", Kind.integer, "The comment's id in REST paths.", column="id", graphql=False),
        Scalar(
            "issue_id",
            Kind.ref,
            "The global ID of the issue.",
            compute=sql.issue_node_id,
            graphql=False,
        ),
        column("body", Kind.text, "Markdown, 1 to 65,536 characters."),
        version(),
        nullable("edited_at", Kind.timestamp, "When the body last changed; null if it never did."),
        column("created_at", Kind.timestamp, "When the comment was written."),
        updated("comment"),
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
        node_id(),
        column("type", Kind.text, "What happened, e.g. `issue.created` or `comment.deleted`."),
        column(
            "subject_id",
            Kind.ref,
            "The global ID of the object the event is about (it may no longer exist).",
        ),
        column("data", Kind.json, "Details of the change, depending on `type`."),
        _ref("Project", "project_id", "The global ID of the project concerned, if any."),
        _ref("Issue", "issue_id", "The global ID of the issue concerned, if any."),
        column("created_at", Kind.timestamp, "When the change was committed."),
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

NOUNS: Final[Mapping[str, Noun]] = MappingProxyType(
    {
        n.name: n
        for n in (
            USER,
            WORKSPACE,
            MEMBERSHIP,
            PROJECT,
            LABEL,
            ISSUE,
            COMMENT,
            EVENT,
            INVITATION,
            WEBHOOK,
            WEBHOOK_DELIVERY,
        )
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
