"""Demo and benchmark datasets for `gateway seed` and `gateway create-user`.

Bulk inserts straight through the models: a dataset loader, not an API client, so it writes in
batches of a thousand rows and keeps `issue_counter` and the events in step by hand.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import click
from tortoise.transactions import in_transaction

from gateway.core.ids import to_global_id
from gateway.security.passwords import hash_password
from models import (
    Comment,
    Event,
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

BATCH = 1000
PEOPLE = {"demo": Role.owner, "alice": Role.admin, "bob": Role.member, "carol": Role.member}
VIEWER = "dave"
# Ten projects, so a workspace-wide read (benchmark W3: 10 projects x 10 issues) has them all.
PROJECTS = (
    ("WEB", "Web app"),
    ("API", "Public API"),
    ("OPS", "Operations"),
    ("IOS", "iOS app"),
    ("DROID", "Android app"),
    ("DOCS", "Documentation"),
    ("DATA", "Data pipeline"),
    ("BILL", "Billing"),
    ("AUTH", "Sign-in"),
    ("INFRA", "Infrastructure"),
)
# Issue #1 of every project, and every 500th after it, gets a long thread (benchmark W2).
THREAD_EVERY, THREAD_LENGTH = 500, 30
LABELS = (
    ("bug", "#d73a4a"),
    ("feature", "#a2eeef"),
    ("docs", "#0075ca"),
    ("performance", "#fbca04"),
    ("security", "#b60205"),
)
VERBS = ("Fix", "Add", "Remove", "Speed up", "Document", "Refactor", "Investigate")
THINGS = ("login form", "issue list", "webhooks", "search", "rate limiter", "exports", "billing")


async def create_account(
    username: str, email: str, password: str, display_name: str = "", site_admin: bool = False
) -> User:
    return await User.create(
        username=username,
        email=email,
        email_key=email.lower(),
        display_name=display_name or username.title(),
        password_hash=await hash_password(password),
        is_site_admin=site_admin,
    )


async def seed_demo(*, password: str, issues: int, random_seed: int = 1) -> None:
    """Users with every role, one workspace, ten projects with labels, `issues` issues spread
    over the projects (about one comment per two issues), and their events."""
    rng = random.Random(random_seed)
    password_hash = await hash_password(password)
    # A second seed of the same database gets fresh names instead of failing on uniqueness.
    suffix = f"-{rng.randrange(10_000)}" if await User.filter(username="demo").exists() else ""
    people = [
        await User.create(
            username=f"{name}{suffix}",
            email=f"{name}{suffix}@example.com",
            email_key=f"{name}{suffix}@example.com",
            display_name=name.title(),
            password_hash=password_hash,
        )
        for name in (*PEOPLE, VIEWER)
    ]
    async with in_transaction():
        workspace = await Workspace.create(slug=f"demo{suffix}", name="Demo workspace")
        for person, role in zip(people, (*PEOPLE.values(), Role.viewer), strict=True):
            await Membership.create(workspace=workspace, user=person, role=role)
        await Event.create(
            workspace=workspace,
            actor=people[0],
            type="workspace.created",
            subject_id=to_global_id("Workspace", workspace.id),
        )
        projects = []
        for key, name in PROJECTS:
            project = await Project.create(workspace=workspace, key=key, name=name)
            await Event.create(
                workspace=workspace,
                actor=people[0],
                type="project.created",
                subject_id=to_global_id("Project", project.id),
                project_id=project.id,
            )
            labels = [
                await Label.create(project=project, name=n, name_key=n, color=c) for n, c in LABELS
            ]
            projects.append((project, labels))
    await _seed_issues(rng, workspace, projects, people[:4], issues)
    click.echo(f"workspace {workspace.slug}: users {', '.join(p.username for p in people)}")


async def _seed_issues(
    rng: random.Random,
    workspace: Workspace,
    projects: list[tuple[Project, list[Label]]],
    authors: list[User],
    total: int,
) -> None:
    start = datetime.now(UTC) - timedelta(days=365)
    made = 0
    with click.progressbar(length=total, label="issues") as bar:
        while made < total:
            size = min(BATCH, total - made)
            async with in_transaction():
                await _seed_batch(rng, workspace, projects, authors, start, made, size)
            made += size
            bar.update(size)


async def _seed_batch(
    rng: random.Random,
    workspace: Workspace,
    projects: list[tuple[Project, list[Label]]],
    authors: list[User],
    start: datetime,
    offset: int,
    size: int,
) -> None:
    rows: list[Issue] = []
    for i in range(offset, offset + size):
        project, _ = projects[i % len(projects)]
        project.issue_counter += 1
        created = start + timedelta(minutes=i)
        closed = rng.random() < 0.3
        rows.append(
            Issue(
                project=project,
                number=project.issue_counter,
                title=f"{rng.choice(VERBS)} the {rng.choice(THINGS)} (#{i + 1})",
                body="Steps to reproduce:\n\n1. open the page\n2. watch it fail",
                state=IssueState.closed if closed else IssueState.open,
                priority=rng.choice(list(IssuePriority)),
                author=rng.choice(authors),
                assignee=rng.choice([None, *authors]),
                due_date=date(2027, 1, 1) + timedelta(days=i % 90) if i % 5 == 0 else None,
                closed_at=created + timedelta(days=2) if closed else None,
                created_at=created,
                updated_at=created,
            )
        )
    await Issue.bulk_create(rows)
    for project, _ in projects:
        await Project.filter(id=project.id).update(issue_counter=project.issue_counter)
    numbers = {(r.project.id, r.number) for r in rows}
    saved = await Issue.filter(
        project_id__in=[p.id for p, _ in projects],
        number__in=list({n for _, n in numbers}),
    ).values("id", "project_id", "number", "author_id")
    saved = [s for s in saved if (s["project_id"], s["number"]) in numbers]
    labels_by_project = {p.id: labels for p, labels in projects}
    links: list[IssueLabel] = []
    comments: list[Comment] = []
    events: list[Event] = []
    for issue in saved:
        for label in rng.sample(labels_by_project[issue["project_id"]], rng.randrange(3)):
            links.append(IssueLabel(issue_id=issue["id"], label_id=label.id))
        replies = THREAD_LENGTH if issue["number"] % THREAD_EVERY == 1 else int(rng.random() < 0.5)
        comments.extend(
            Comment(issue_id=issue["id"], author=rng.choice(authors), body="Looking into it.")
            for _ in range(replies)
        )
        events.append(
            Event(
                workspace=workspace,
                actor_id=issue["author_id"],
                type="issue.created",
                subject_id=to_global_id("Issue", issue["id"]),
                project_id=issue["project_id"],
                issue_id=issue["id"],
                data={"number": issue["number"]},
            )
        )
    await IssueLabel.bulk_create(links)
    await Comment.bulk_create(comments)
    await Event.bulk_create(events)
