"""The whole flow of a new user, through the REST client that openapi-python-client generates
from `openapi.json` (unmodified): sign up, sign in, workspace, invitation accepted, project,
issues, a comment, paging with cursors, and a PATCH with a stale `If-Match` (412).

    openapi-python-client generate --path openapi.json --meta none --output-path switchyard_client
    PYTHONPATH=. python clients/python/flow.py http://127.0.0.1:8000

Run by `tests/processes/test_generated_clients.py` against a real `gateway serve`; prints one
line per step and exits non-zero on the first surprise.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from switchyard_client import AuthenticatedClient, Client
from switchyard_client.api.auth import auth_token
from switchyard_client.api.comments import comments_create
from switchyard_client.api.invitations import (
    invitations_accept,
    invitations_create,
    invitations_list_mine,
)
from switchyard_client.api.issues import issues_create, issues_get, issues_list, issues_update
from switchyard_client.api.projects import projects_create
from switchyard_client.api.users import users_create
from switchyard_client.api.workspaces import workspaces_create
from switchyard_client.models import (
    Comment,
    CommentCreate,
    ErrorCode,
    Invitation,
    InvitationByUsername,
    Issue,
    IssueCreate,
    IssuePage,
    IssuePatch,
    IssuePriority,
    Member,
    PasswordGrant,
    Problem,
    Project,
    ProjectCreate,
    Role,
    SignUpIn,
    TokenResponse,
    User,
    Workspace,
    WorkspaceCreate,
)

T = TypeVar("T")
PASSWORD = "correct horse battery staple"


def expect(answer: T | Problem | None, kind: type[T], step: str) -> T:
    if not isinstance(answer, kind):
        raise SystemExit(f"{step}: expected {kind.__name__}, got {answer!r}")
    print(f"ok  {step}")
    return answer


def sign_in(base_url: str, username: str) -> AuthenticatedClient:
    anonymous = Client(base_url=base_url)
    body = SignUpIn(email=f"{username}@example.com", username=username, password=PASSWORD)
    expect(users_create.sync(client=anonymous, body=body), User, f"{username} signed up")
    grant = PasswordGrant(username=username, password=PASSWORD)
    pair = expect(auth_token.sync(client=anonymous, body=grant), TokenResponse, f"{username} token")
    return AuthenticatedClient(base_url=base_url, token=pair.access_token)


def main(base_url: str) -> None:
    ann, bob = sign_in(base_url, "ann"), sign_in(base_url, "bob")
    workspace = workspaces_create.sync(client=ann, body=WorkspaceCreate(slug="acme", name="Acme"))
    expect(workspace, Workspace, "workspace")
    invited = invitations_create.sync(
        "acme", client=ann, body=InvitationByUsername(username="bob", role=Role.MEMBER)
    )
    expect(invited, Invitation, "bob invited")
    mine = invitations_list_mine.sync(client=bob)
    if mine is None or isinstance(mine, Problem) or len(mine.items) != 1:
        raise SystemExit(f"bob's invitations: {mine!r}")
    expect(invitations_accept.sync(mine.items[0].id, client=bob), Member, "invitation accepted")
    project = projects_create.sync("acme", client=ann, body=ProjectCreate(key="WEB", name="Web"))
    expect(project, Project, "project")
    for title in ("First", "Second", "Third"):
        created = issues_create.sync(
            "acme", "WEB", client=bob, body=IssueCreate(title=title, priority=IssuePriority.HIGH)
        )
        expect(created, Issue, f"issue {title}")
    comment = comments_create.sync("acme", "WEB", 1, client=ann, body=CommentCreate(body="On it."))
    expect(comment, Comment, "comment")

    first = expect(issues_list.sync("acme", "WEB", client=ann, limit=2), IssuePage, "page 1")
    if first.next_cursor is None:
        raise SystemExit("page 1 has no next_cursor")
    rest = issues_list.sync("acme", "WEB", client=ann, limit=2, cursor=first.next_cursor)
    second = expect(rest, IssuePage, "page 2")
    numbers = [issue.number for issue in [*first.items, *second.items]]
    if numbers != [1, 2, 3] or second.next_cursor is not None:
        raise SystemExit(f"paging gave {numbers}, then {second.next_cursor!r}")

    detailed = issues_get.sync_detailed("acme", "WEB", 1, client=ann)
    etag = detailed.headers["ETag"]
    issues_update.sync("acme", "WEB", 1, client=bob, body=IssuePatch(title="First, renamed"))
    stale = issues_update.sync(
        "acme", "WEB", 1, client=ann, body=IssuePatch(title="Lost update"), if_match=etag
    )
    refused = expect(stale, Problem, "stale If-Match refused")
    if refused.status != 412 or refused.code != ErrorCode.PRECONDITION_FAILED:
        raise SystemExit(f"stale If-Match: {refused!r}")
    print("flow complete")


if __name__ == "__main__":
    main(sys.argv[1])
