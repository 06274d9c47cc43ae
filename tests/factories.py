"""The one world the tests build on: workspace `acme` with a user in every role (and a
stranger), optionally project WEB with three labels; and the rich world of the parity tests
(more workspaces, projects, issues and comments of varied shapes). Made straight through the
models, so no event is recorded and no endpoint is needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from gateway.core.ids import to_global_id
from models import (
    Comment,
    Issue,
    IssueLabel,
    IssuePriority,
    IssueState,
    Label,
    Membership,
    Project,
    Role,
    User,
    Workspace,
)
from tests.auth_helpers import bearer, make_pat, make_user

ROLES = ("viewer", "member", "admin", "owner", "stranger")
LABELS = (("bug", "#ff0000"), ("ui", "#00ff00"), ("Docs", "#0000ff"))


@dataclass
class World:
    """Workspace `acme`, its users by role (`stranger` belongs to none), its projects by key
    and the labels of the first one, WEB. `pat` is the header of a personal access token,
    when the world made one."""

    app: FastAPI
    users: dict[str, User]
    workspace: Workspace
    projects: dict[str, Project] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    pat: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        """The `Authorization` header of user `who` (or of the token, for "pat")."""
        if who == "pat":
            return self.pat
        return bearer(self.app, self.users[who])

    @property
    def project(self) -> Project:
        return self.projects["WEB"]

    @property
    def project_id(self) -> str:
        return to_global_id("Project", self.project.id)

    def user_id(self, who: str) -> str:
        return to_global_id("User", self.users[who].id)

    def label_id(self, name: str) -> str:
        return to_global_id("Label", self.labels[name].id)


async def make_world(app: FastAPI, *, project: bool = True) -> World:
    """`acme` with one user per role; with `project`, also WEB and its labels bug, ui, Docs."""
    workspace = await Workspace.create(slug="acme", name="Acme")
    users: dict[str, User] = {}
    for role in ROLES:
        users[role] = await make_user(role)
        if role != "stranger":
            await Membership.create(workspace=workspace, user=users[role], role=Role(role))
    world = World(app, users, workspace)
    if project:
        web = await Project.create(workspace=workspace, key="WEB", name="Web")
        world.projects["WEB"] = web
        for name, color in LABELS:
            world.labels[name] = await Label.create(
                project=web, name=name, name_key=name.lower(), color=color
            )
    return world


async def project_of(world: World, key: str) -> Project:
    """Acme's project `key`, created when missing."""
    found = await Project.filter(workspace=world.workspace, key=key).first()
    if found is None:
        found = await Project.create(workspace=world.workspace, key=key, name=key)
    world.projects[key] = found
    return found


async def fill(world: World, project: Project, n: int) -> None:
    """`n` issues in `project`, each with an author, an assignee (every other one), two labels
    and a comment."""
    labels = [
        await Label.create(
            project=project, name=f"{project.key}-{c}", name_key=f"x{c}", color="#000000"
        )
        for c in "ab"
    ]
    author, assignee = world.users["member"], world.users["admin"]
    for i in range(1, n + 1):
        issue = await Issue.create(
            project=project,
            number=i,
            title=f"#{i}",
            author=author,
            assignee=assignee if i % 2 else None,
            priority=IssuePriority(i % 5),
            state=IssueState.closed if i % 7 == 0 else IssueState.open,
        )
        for label in labels:
            await IssueLabel.create(issue=issue, label=label)
        await Comment.create(issue=issue, author=author, body="hi")


# The rich world ---------------------------------------------------------------------------

BASE = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def at(hours: float, micro: int = 0) -> datetime:
    """A timestamp `hours` after BASE with `micro` microseconds."""
    return (BASE + timedelta(hours=hours)).replace(microsecond=micro)


# (name, color, description, created hours, microseconds)
RICH_LABELS = (
    ("bug", "#ff0000", "", 1, 0),
    ("ui", "#00ff00", "User interface", 2, 123456),
    ("Docs", "#0000ff", "", 3, 0),
    ("Ünïcode ✓", "#123456", "Ça marche", 4, 999999),
    ("日本語", "#abcdef", "", 5, 1),
    ("émoji 🐛", "#fedcba", "Ünïcode", 6, 0),
)


@dataclass(frozen=True)
class IssueSpec:
    """One WEB issue of the rich world; `hours` after BASE it was created, `updated` it
    changed."""

    title: str
    body: str = ""
    closed: bool = False
    priority: int = 0
    assignee: str | None = None
    labels: tuple[str, ...] = ()
    due: date | None = None
    comments: int = 0
    hours: float = 0
    micro: int = 0
    updated: float = 0


ISSUES: dict[int, IssueSpec] = {
    1: IssueSpec(
        "Login fails",
        "A needle in the body",
        priority=3,
        assignee="admin",
        labels=("bug", "ui"),
        due=date(2030, 1, 2),
        comments=5,
        hours=10,
        updated=40,
    ),
    2: IssueSpec(
        "Ünïcode title ✓", closed=True, labels=("日本語",), hours=11, micro=500000, updated=12
    ),
    3: IssueSpec(
        "Search Needle",
        "Body with 100% and a_b",
        priority=4,
        assignee="member",
        labels=("bug", "Docs", "Ünïcode ✓"),
        comments=2,
        hours=12,
        updated=50,
    ),
    4: IssueSpec(
        "Closed thing",
        "gone",
        closed=True,
        priority=1,
        assignee="viewer",
        due=date(2026, 12, 31),
        comments=1,
        hours=13,
        micro=7,
        updated=13,
    ),
    5: IssueSpec("Medium", "nothing", priority=2, due=date(2027, 6, 1), hours=14, updated=20),
    6: IssueSpec(
        "Tie one",
        "same time",
        priority=3,
        assignee="admin",
        labels=("ui",),
        hours=15,
        micro=250000,
        updated=45,
    ),
    7: IssueSpec(
        "Tie two",
        "same time",
        closed=True,
        assignee="owner",
        labels=("bug",),
        comments=1,
        hours=15,
        micro=250000,
        updated=45,
    ),
    8: IssueSpec("Low", priority=1, labels=("émoji 🐛", "ui"), hours=16, updated=16),
    9: IssueSpec(
        "Urgent %_",
        "percent and underscore",
        priority=4,
        assignee="member",
        labels=("émoji 🐛",),
        comments=3,
        hours=17,
        micro=42,
        updated=30,
    ),
}


async def _stamp(model: Any, pk: int, created: datetime, updated: datetime | None = None) -> None:
    """Set a row's timestamps directly (no auto_now)."""
    await model.filter(id=pk).update(created_at=created, updated_at=updated or created)


async def make_rich_world(app: FastAPI) -> World:
    """Workspaces `acme` (every role but the stranger; `siteadmin` is a site admin and no
    member) and `other` (owned by the stranger), projects WEB (the ISSUES, with comments), API,
    DOC, OPS (archived), ZED and OTH (other's), labels of varied shapes, timestamps with and
    without microseconds, and a read-only token of the member (`pat`)."""
    users: dict[str, User] = {}
    for n, name in enumerate(("owner", "admin", "member", "viewer", "siteadmin", "stranger")):
        users[name] = await make_user(name, site_admin=name == "siteadmin")
        await _stamp(User, users[name].id, at(-100 + n, 0 if n % 2 else 654321))
    acme = await Workspace.create(slug="acme", name="Acme Ünïcode")
    await _stamp(Workspace, acme.id, at(-50, 120000), at(-10, 0))
    other = await Workspace.create(slug="other", name="Other")
    await _stamp(Workspace, other.id, at(-49))
    for n, name in enumerate(("owner", "admin", "member", "viewer")):
        membership = await Membership.create(workspace=acme, user=users[name], role=Role(name))
        await _stamp(Membership, membership.id, at(-40 + n, n * 1000), at(-5 + n))
    stranger = await Membership.create(workspace=other, user=users["stranger"], role=Role.owner)
    await _stamp(Membership, stranger.id, at(-30))

    web = await Project.create(
        workspace=acme, key="WEB", name="Web", description="The web app ✓", issue_counter=9
    )
    await _stamp(Project, web.id, at(-20, 1), at(-1, 0))
    world = World(app, users, acme, {"WEB": web})
    for n, key in enumerate(("API", "DOC", "OPS", "ZED")):
        project = await Project.create(
            workspace=acme, key=key, name=key.title(), is_archived=key == "OPS"
        )
        await _stamp(Project, project.id, at(-19 + n, 0 if n % 2 else 777))
        world.projects[key] = project
    api = world.projects["API"]
    oth = await Project.create(workspace=other, key="OTH", name="Hidden", issue_counter=2)

    for name, color, description, hours, micro in RICH_LABELS:
        world.labels[name] = await Label.create(
            project=web, name=name, name_key=name.casefold(), color=color, description=description
        )
        await _stamp(Label, world.labels[name].id, at(hours, micro))
    api_bug = await Label.create(project=api, name="bug", name_key="bug", color="#111111")
    secret = await Label.create(project=oth, name="secret", name_key="secret", color="#222222")

    for number, spec in ISSUES.items():
        issue = await Issue.create(
            project=web,
            number=number,
            title=spec.title,
            body=spec.body,
            state=IssueState.closed if spec.closed else IssueState.open,
            priority=IssuePriority(spec.priority),
            author=users[("member", "owner", "admin")[number % 3]],
            assignee=users[spec.assignee] if spec.assignee else None,
            due_date=spec.due,
            closed_at=at(spec.hours + 1, 0 if number % 2 else 314159) if spec.closed else None,
            version=1 + number % 4,
        )
        await _stamp(Issue, issue.id, at(spec.hours, spec.micro), at(spec.updated, spec.micro // 2))
        for name in spec.labels:
            await IssueLabel.create(issue=issue, label=world.labels[name])
        for c in range(spec.comments):
            comment = await Comment.create(
                issue=issue,
                author=users[("member", "viewer", "admin")[c % 3]],
                body=f"Comment {c} on #{number} ✓",
                edited_at=at(spec.hours + c + 2, 5) if c == 1 else None,
                version=2 if c == 1 else 1,
            )
            created = at(spec.hours + c + 0.5, c * 111)
            await _stamp(Comment, comment.id, created, at(spec.hours + c + 3))
    for number in (1, 2, 3):
        issue = await Issue.create(
            project=api, number=number, title=f"API {number}", author=users["owner"]
        )
        await IssueLabel.create(issue=issue, label=api_bug)
    api.issue_counter = 3
    await api.save()
    for number in (1, 2):
        issue = await Issue.create(
            project=oth, number=number, title=f"Hidden {number}", author=users["stranger"]
        )
        await IssueLabel.create(issue=issue, label=secret)
        await Comment.create(issue=issue, author=users["stranger"], body="secret")
    _, world.pat = await make_pat(users["member"], ["read"])
    return world
