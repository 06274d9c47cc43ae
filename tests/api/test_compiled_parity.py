"""Compiled reads answer exactly as the resolvers do: every query of a hand-written corpus, its
error cases and a set of generated selections over the read graph are sent twice, once with
`compiled_reads` off (the resolver + DataLoader fallback) and once on, for several callers, and
the two answers must be the same status code and the same JSON document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gateway.core.ids import to_global_id
from models import (
    Comment,
    Event,
    Issue,
    Label,
    Membership,
    Project,
    Role,
    User,
    Workspace,
)
from tests.factories import World
from tests.parity import CALLERS, PAGE_INFO, Answer, Parity

USER = "id username displayName email isSiteAdmin version createdAt"
WORKSPACES = (
    f"totalCount {PAGE_INFO} edges {{ cursor node {{ id slug name viewerRole version }} }}"
    " nodes { slug }"
)
LABEL = "id name color description version createdAt updatedAt"
COMMENT = "id body editedAt version createdAt updatedAt author { username } issue { number }"
ISSUE_SCALARS = "id number title body state priority dueDate closedAt createdAt updatedAt version"
ISSUE = (
    f"{ISSUE_SCALARS} author {{ {USER} }} assignee {{ {USER} }} labels {{ {LABEL} }}"
    " commentCount project { key }"
)
MEMBERS = (
    f"totalCount {PAGE_INFO} edges {{ cursor node {{ id role createdAt updatedAt"
    " user { username } } }"
)
PROJECT = "id key name description isArchived issueCount version createdAt updatedAt"
ISSUE_PAGE = (
    f"totalCount nodes {{ number title }} edges {{ cursor node {{ {ISSUE} }} }} {PAGE_INFO}"
)

# (query, variables): documents without cursors, run as they are.
STATIC: list[tuple[str, dict[str, Any] | None]] = [
    (f"{{ viewer {{ {USER} }} }}", None),
    ("{ __typename viewer { __typename username } }", None),
    (f"{{ viewer {{ workspaces {{ {WORKSPACES} }} }} }}", None),
    (f"{{ viewer {{ workspaces(first: 1) {{ {WORKSPACES} }} }} }}", None),
    ("{ viewer { workspaces(last: 1) { totalCount nodes { slug } } } }", None),
    (
        '{ workspace(slug: "acme") { members { nodes { user { username'
        f" workspaces(first: 5) {{ {WORKSPACES} }} }} }} }} }}",
        None,
    ),
    (
        "query($slug: String!, $n: Int) { workspace(slug: $slug) { id slug name viewerRole"
        f" createdAt updatedAt members(first: $n) {{ {MEMBERS} }} }} }}",
        {"slug": "acme", "n": 3},
    ),
    (
        '{ workspace(slug: "acme") { id slug name viewerRole createdAt updatedAt'
        f" members(first: 3) {{ {MEMBERS} }} }} }}",
        None,
    ),
    (f'{{ workspace(slug: "acme") {{ members(last: 2) {{ {MEMBERS} }} }} }}', None),
    (f'{{ workspace(slug: "acme") {{ members {{ {MEMBERS} }} }} }}', None),
    (
        f'{{ workspace(slug: "acme") {{ projects(first: 2) {{ totalCount {PAGE_INFO}'
        f" edges {{ cursor node {{ {PROJECT} }} }} nodes {{ key }} }} }} }}",
        None,
    ),
    (
        f'{{ workspace(slug: "acme") {{ projects(last: 2) {{ totalCount {PAGE_INFO}'
        " nodes { key workspace { slug } } } } }",
        None,
    ),
    (
        f'{{ project(workspace: "acme", key: "web") {{ {PROJECT} workspace {{ slug name }}'
        f" labels(first: 10) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {LABEL} }} }}"
        " } } }",
        None,
    ),
    (
        "query($w: String!, $k: String!, $l: Int) { project(workspace: $w, key: $k) {"
        f" labels(last: $l) {{ totalCount {PAGE_INFO} nodes {{ name }} }} }} }}",
        {"w": "acme", "k": "WEB", "l": 2},
    ),
    (f'{{ project(workspace: "acme", key: "OPS") {{ {PROJECT} issues {{ totalCount }} }} }}', None),
    (
        'query($n: Int!) { issue(workspace: "acme", project: "WEB", number: $n) {'
        f" {ISSUE} comments(first: 2) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {COMMENT}"
        " } } } } }",
        {"n": 1},
    ),
    (
        f'{{ issue(workspace: "acme", project: "web", number: 1) {{ {ISSUE}'
        f" comments(last: 2) {{ totalCount {PAGE_INFO} nodes {{ {COMMENT} }} }} }} }}",
        None,
    ),
    (
        f'{{ issue(workspace: "acme", project: "WEB", number: 9) {{ {ISSUE}'
        f" comments {{ totalCount nodes {{ {COMMENT} }} }} }} }}",
        None,
    ),
    (
        f'{{ a: issue(workspace: "acme", project: "WEB", number: 2) {{ {ISSUE} }}'
        f' b: issue(workspace: "acme", project: "WEB", number: 3) {{ {ISSUE} }}'
        f' c: issue(workspace: "acme", project: "API", number: 1) {{ {ISSUE} }} }}',
        None,
    ),
    (
        '{ project(workspace: "acme", key: "WEB") {'
        " open: issues(first: 3) { totalCount nodes { number } }"
        " closed: issues(filter: {state: CLOSED}, first: 3) { totalCount nodes { number } }"
        " everything: issues(filter: {state: ALL}, last: 2) { totalCount nodes { number } }"
        ' mine: issues(filter: {state: ALL, assignee: "member"}) { totalCount nodes { number } }'
        " } }",
        None,
    ),
    (
        "fragment U on User { username displayName }"
        " fragment L on Label { name color }"
        " fragment I on Issue { number author { ...U } assignee { ...U } labels { ...L } }"
        ' { viewer { ...U } project(workspace: "acme", key: "WEB") {'
        " issues(filter: {state: ALL}, first: 4) { nodes { ...I } edges { node { ...I } } } } }",
        None,
    ),
    (
        '{ project(workspace: "acme", key: "WEB") { __typename ... on Project { key }'
        " issues(first: 2) { __typename pageInfo { __typename hasNextPage } edges { __typename"
        " node { __typename ... on Issue { number labels { __typename name } } } } } } }",
        None,
    ),
    (
        "query($slug: String!, $key: String!, $n: Int!) {"
        " viewer { username } workspace(slug: $slug) { slug }"
        " project(workspace: $slug, key: $key) { key issueCount }"
        " issue(workspace: $slug, project: $key, number: $n) { title } }",
        {"slug": "acme", "key": "WEB", "n": 4},
    ),
    (
        "query($withLabels: Boolean!, $skipAuthor: Boolean!) {"
        ' issue(workspace: "acme", project: "WEB", number: 3) { number'
        " labels @include(if: $withLabels) { name } author @skip(if: $skipAuthor) { username }"
        " } }",
        {"withLabels": True, "skipAuthor": True},
    ),
    (
        'query($first: Int = 2) { project(workspace: "acme", key: "WEB") {'
        " issues(first: $first) { nodes { number } } } }",
        None,
    ),
    (
        'query Named { workspace(slug: "acme") { projects(first: 5) { nodes { key'
        " issues(first: 2, filter: {state: ALL}) { totalCount nodes { number commentCount"
        " comments(first: 1) { totalCount nodes { body author { username } } } } } } } } }",
        None,
    ),
    (
        '{ issue(workspace: "acme", project: "WEB", number: 1) { comments(first: 1) {'
        " nodes { issue { number project { key workspace { slug } } comments(last: 1) {"
        " nodes { body } } } } } } }",
        None,
    ),
]

ISSUE_FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "OPEN"},
    {"state": "CLOSED"},
    {"state": "ALL"},
    {"state": "ALL", "assignee": "admin"},
    {"state": "ALL", "assignee": "none"},
    {"state": "ALL", "assignee": "ADMIN"},
    {"state": "ALL", "assignee": "nobody-here"},
    {"state": "ALL", "labels": ["bug"]},
    {"state": "ALL", "labels": ["BUG", "ui"]},
    {"state": "ALL", "labels": ["日本語"]},
    {"state": "ALL", "labels": ["ÜNÏCODE ✓"]},
    {"state": "ALL", "labels": ["missing"]},
    {"state": "ALL", "labels": []},
    {"state": "ALL", "q": "needle"},
    {"state": "OPEN", "q": "NEEDLE"},
    {"state": "ALL", "q": "ünï"},
    {"state": "ALL", "q": "%"},
    {"state": "ALL", "q": "_"},
    {"state": "ALL", "q": ""},
    {"state": "ALL", "q": "same", "labels": ["ui"], "assignee": "admin"},
]

ORDERS: list[dict[str, str] | None] = [None] + [
    {"field": f, "direction": d}
    for f in ("NUMBER", "CREATED", "UPDATED", "PRIORITY")
    for d in ("ASC", "DESC")
]

ISSUES_QUERY = (
    "query($filter: IssueFilter, $orderBy: IssueOrder, $first: Int, $after: String,"
    ' $last: Int, $before: String) { project(workspace: "acme", key: "WEB") {'
    " issues(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,"
    f" before: $before) {{ {ISSUE_PAGE} }} }} }}"
)


def _issues(answer: Answer) -> dict[str, Any]:
    """`project.issues` of an answer."""
    connection: dict[str, Any] = answer.body["data"]["project"]["issues"]
    return connection


async def test_hand_written_queries(
    rich_world: World, parity_of: Callable[[dict[str, str]], Parity], caller: str
) -> None:
    """The static corpus, each document as written."""
    parity = parity_of(rich_world.h(caller))
    for query, variables in STATIC:
        answer = await parity.both(query, variables)
        assert answer.status == 200, answer
    parity.check()


async def test_issue_lists_and_their_pages(
    rich_world: World, parity_of: Callable[[dict[str, str]], Parity], caller: str
) -> None:
    """Every filter and every order, a first page, the next one from its end cursor, the
    previous one back from the second page's start cursor, and the last page."""
    parity = parity_of(rich_world.h(caller))
    walked = 0
    for filter_ in ISSUE_FILTERS:
        for order in ORDERS if filter_ in ({}, {"state": "ALL"}) else ORDERS[:1]:
            base = {"filter": filter_ or None, "orderBy": order}
            first = await parity.both(ISSUES_QUERY, {**base, "first": 3})
            page = _issues(first)
            last = await parity.both(ISSUES_QUERY, {**base, "last": 2})
            assert "errors" not in last.body, last
            if not page["pageInfo"]["hasNextPage"]:
                continue
            walked += 1
            after = page["pageInfo"]["endCursor"]
            second = _issues(await parity.both(ISSUES_QUERY, {**base, "first": 3, "after": after}))
            before = second["pageInfo"]["startCursor"]
            await parity.both(ISSUES_QUERY, {**base, "last": 2, "before": before})
            await parity.both(ISSUES_QUERY, {**base, "first": 10, "after": after, "before": before})
            # The same pages with the arguments written as literals.
            await parity.both(
                'query { project(workspace: "acme", key: "WEB") { issues('
                f"{_literal_args(base)} first: 3, after: {json.dumps(after)}) {{ {ISSUE_PAGE} }}"
                " } }"
            )
    assert walked >= 10
    parity.check()


def _literal_args(arguments: dict[str, Any]) -> str:
    """`filter: {...}, orderBy: {...},` as GraphQL literals (enums bare)."""
    parts = []
    filter_ = arguments.get("filter")
    if filter_:
        fields = []
        for name, value in filter_.items():
            text = value if name == "state" else json.dumps(value, ensure_ascii=False)
            fields.append(f"{name}: {text}")
        parts.append(f"filter: {{{', '.join(fields)}}},")
    order = arguments.get("orderBy")
    if order:
        parts.append(f"orderBy: {{field: {order['field']}, direction: {order['direction']}}},")
    return " ".join(parts)


COMMENTS_QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    ' issue(workspace: "acme", project: "WEB", number: 1) { commentCount'
    " comments(first: $first, after: $after, last: $last, before: $before) {"
    f" totalCount {PAGE_INFO} edges {{ cursor node {{ {COMMENT} }} }} }} }} }}"
)
PROJECTS_QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    ' workspace(slug: "acme") { projects(first: $first, after: $after, last: $last,'
    f" before: $before) {{ totalCount {PAGE_INFO} edges {{ cursor node {{ {PROJECT} }} }}"
    " } } }"
)
LABELS_QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    ' project(workspace: "acme", key: "WEB") { labels(first: $first, after: $after,'
    f" last: $last, before: $before) {{ totalCount {PAGE_INFO} nodes {{ {LABEL} }}"
    " edges { cursor } } } }"
)
MEMBERS_QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    ' workspace(slug: "acme") { members(first: $first, after: $after, last: $last,'
    f" before: $before) {{ {MEMBERS} }} }} }}"
)


WORKSPACES_QUERY = (
    "query($first: Int, $after: String, $last: Int, $before: String) {"
    " viewer { workspaces(first: $first, after: $after, last: $last, before: $before) {"
    f" {WORKSPACES} }} }} }}"
)


def _connection(answer: Answer) -> dict[str, Any]:
    """The one connection two levels down in `data`."""
    (root,) = answer.body["data"].values()
    (connection,) = (v for v in root.values() if isinstance(v, dict))
    found: dict[str, Any] = connection
    return found


@pytest.mark.parametrize(
    "query", [COMMENTS_QUERY, PROJECTS_QUERY, LABELS_QUERY, MEMBERS_QUERY, WORKSPACES_QUERY]
)
async def test_connections_forward_and_backward(
    rich_world: World,
    parity_of: Callable[[dict[str, str]], Parity],
    caller: str,
    query: str,
) -> None:
    """Comments, projects, labels, members and the caller's workspaces walked two at a time
    forward to the end, then backward to the start, with the cursors each page gives."""
    if query is WORKSPACES_QUERY:
        user = rich_world.users["member" if caller == "pat" else caller]
        for n, role in enumerate((Role.viewer, Role.owner, Role.admin, Role.member)):
            workspace = await Workspace.create(slug=f"more-{n}", name=f"More {n}")
            await Membership.create(workspace=workspace, user=user, role=role)
    parity = parity_of(rich_world.h(caller))
    variables: dict[str, Any] = {"first": 2}
    pages = 0
    while True:
        page = _connection(await parity.both(query, variables))
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables = {"first": 2, "after": page["pageInfo"]["endCursor"]}
    variables = {"last": 2}
    while True:
        page = _connection(await parity.both(query, variables))
        pages += 1
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        variables = {"last": 2, "before": page["pageInfo"]["startCursor"]}
    assert pages >= 4
    parity.check()


ERRORS: list[tuple[str, dict[str, Any] | None]] = [
    ('{ workspace(slug: "nope") { slug } }', None),
    ('{ workspace(slug: "other") { slug viewerRole projects { nodes { key } } } }', None),
    ('{ project(workspace: "acme", key: "NOPE") { key } }', None),
    ('{ project(workspace: "other", key: "OTH") { key labels { nodes { name } } } }', None),
    ('{ project(workspace: "nope", key: "WEB") { key } }', None),
    ('{ issue(workspace: "acme", project: "WEB", number: 999) { title } }', None),
    ('{ issue(workspace: "acme", project: "WEB", number: 0) { title } }', None),
    ('{ issue(workspace: "acme", project: "WEB", number: -3) { title } }', None),
    ('{ issue(workspace: "other", project: "OTH", number: 1) { title } }', None),
    ('{ issue(workspace: "acme", project: "NOPE", number: 1) { title } }', None),
    (
        '{ viewer { username } ok: issue(workspace: "acme", project: "WEB", number: 1) { title }'
        ' missing: issue(workspace: "acme", project: "WEB", number: 99) { title }'
        ' gone: workspace(slug: "nope") { slug } }',
        None,
    ),
    (
        'query($a: String) { project(workspace: "acme", key: "WEB") {'
        " issues(first: 2, after: $a) { nodes { number } } } }",
        {"a": "garbage"},
    ),
    (
        'query($a: String) { project(workspace: "acme", key: "WEB") {'
        " issues(first: 2, after: $a) { nodes { number } } } }",
        {"a": ""},
    ),
    ('{ workspace(slug: "acme") { projects(before: "not-a-cursor") { totalCount } } }', None),
    (
        '{ issue(workspace: "acme", project: "WEB", number: 1) {'
        ' comments(after: "AAAA") { totalCount } } }',
        None,
    ),
    ('{ project(workspace: "acme", key: "WEB") { issues(first: 0) { totalCount } } }', None),
    ('{ project(workspace: "acme", key: "WEB") { issues(first: 101) { totalCount } } }', None),
    ('{ project(workspace: "acme", key: "WEB") { issues(last: 101) { totalCount } } }', None),
    ('{ project(workspace: "acme", key: "WEB") { issues(first: -1) { totalCount } } }', None),
    ('{ project(workspace: "acme", key: "WEB") { labels(last: 0) { totalCount } } }', None),
    ('{ workspace(slug: "acme") { members(first: 101) { totalCount } } }', None),
    (
        '{ issue(workspace: "acme", project: "WEB", number: 1) {'
        " title comments(first: 101) { totalCount } } }",
        None,
    ),
    (
        '{ workspace(slug: "acme") { slug projects(first: 2) { nodes { key'
        " issues(first: 101) { totalCount } } } } }",
        None,
    ),
    (
        '{ project(workspace: "acme", key: "WEB") {'
        " issues(first: 2, last: 2) { nodes { number } } } }",
        None,
    ),
    (
        '{ project(workspace: "acme", key: "WEB") { issues(filter: {state: ALL,'
        ' labels: ["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r",'
        '"s","t","u"]}) { totalCount } } }',
        None,
    ),
    ('{ project(workspace: "acme", key: "WEB") { nope } }', None),
    (
        'query($n: Int!) { issue(workspace: "acme", project: "WEB", number: $n) { id } }',
        {"n": "one"},
    ),
    ("query($s: String!) { workspace(slug: $s) { slug } }", {"s": "ac\u0000me"}),
]


async def test_error_cases(
    rich_world: World, parity_of: Callable[[dict[str, str]], Parity], caller: str
) -> None:
    """Missing and hidden objects, bad cursors and page sizes: the same nulls, errors and
    status codes on both paths."""
    parity = parity_of(rich_world.h(caller))
    for query, variables in ERRORS:
        answer = await parity.both(query, variables)
        seen_by_site_admin = caller == "siteadmin" and '"other"' in query
        assert bool(answer.body.get("errors")) != seen_by_site_admin, answer
    parity.check()


async def test_cursors_from_other_lists(
    rich_world: World, parity_of: Callable[[dict[str, str]], Parity], caller: str
) -> None:
    """A cursor of one list given to another: another kind of list, another project's issues,
    another order, another issue's comments."""
    parity = parity_of(rich_world.h(caller))
    labels = _connection(await parity.both(LABELS_QUERY, {"first": 1}))
    label_cursor = labels["pageInfo"]["endCursor"]
    by_number = _issues(await parity.both(ISSUES_QUERY, {"first": 1, "filter": {"state": "ALL"}}))
    issue_cursor = by_number["pageInfo"]["endCursor"]
    api = await parity.both(
        'query { project(workspace: "acme", key: "API") { issues(first: 1) {'
        " pageInfo { endCursor } } } }"
    )
    api_cursor = api.body["data"]["project"]["issues"]["pageInfo"]["endCursor"]
    comments = _connection(await parity.both(COMMENTS_QUERY, {"first": 1}))
    comment_cursor = comments["pageInfo"]["endCursor"]
    members = _connection(await parity.both(MEMBERS_QUERY, {"first": 1}))
    member_cursor = members["pageInfo"]["endCursor"]
    for cursor in (label_cursor, api_cursor, comment_cursor, member_cursor):
        await parity.both(ISSUES_QUERY, {"first": 2, "after": cursor, "filter": {"state": "ALL"}})
    await parity.both(
        ISSUES_QUERY,
        {"first": 2, "after": issue_cursor, "orderBy": {"field": "PRIORITY", "direction": "DESC"}},
    )
    await parity.both(ISSUES_QUERY, {"last": 2, "before": issue_cursor, "filter": {"q": "x"}})
    await parity.both(PROJECTS_QUERY, {"first": 2, "after": label_cursor})
    await parity.both(LABELS_QUERY, {"first": 2, "after": member_cursor})
    await parity.both(MEMBERS_QUERY, {"last": 2, "before": comment_cursor})
    await parity.both(
        'query($c: String) { issue(workspace: "acme", project: "WEB", number: 3) {'
        " comments(first: 2, after: $c) { totalCount nodes { body } } } }",
        {"c": comment_cursor},
    )
    parity.check()


@pytest.fixture(params=CALLERS)
def caller(request: pytest.FixtureRequest) -> str:
    """Who asks: a member of each role, a site admin who is no member, a read-only PAT."""
    name: str = request.param
    return name


# --- Generated selections over the read graph ------------------------------------------------

SCALAR = ("scalar", "")
OBJECT, LIST, CONNECTION = "object", "list", "connection"


def scalars(names: str) -> dict[str, tuple[str, str]]:
    """The scalar fields `names` (space-separated)."""
    return dict.fromkeys(names.split(), SCALAR)


GRAPH: dict[str, dict[str, tuple[str, str]]] = {
    "User": scalars("id username displayName email isSiteAdmin createdAt"),
    "Workspace": {
        **scalars("id slug name viewerRole createdAt updatedAt"),
        "members": (CONNECTION, "Membership"),
        "projects": (CONNECTION, "Project"),
    },
    "Project": {
        **scalars("id key name description isArchived issueCount version createdAt updatedAt"),
        "workspace": (OBJECT, "Workspace"),
        "labels": (CONNECTION, "Label"),
        "issues": (CONNECTION, "Issue"),
    },
    "Issue": {
        **scalars(
            "id number title body state priority dueDate closedAt createdAt updatedAt version"
            " commentCount"
        ),
        "author": (OBJECT, "User"),
        "assignee": (OBJECT, "User"),
        "labels": (LIST, "Label"),
        "project": (OBJECT, "Project"),
        "comments": (CONNECTION, "Comment"),
    },
    "Label": scalars("id name color description version createdAt updatedAt"),
    "Comment": {
        **scalars("id body editedAt version createdAt updatedAt"),
        "author": (OBJECT, "User"),
        "issue": (OBJECT, "Issue"),
    },
    "Membership": {**scalars("id role createdAt updatedAt"), "user": (OBJECT, "User")},
}
MAX_DEPTH = 5
ALIASES = ("a", "b", "c", "x", "y")


@st.composite
def page_arguments(draw: st.DrawFn, target: str) -> str:
    """`first:`/`last:` (1..5), and for issues a filter and an order, as literals."""
    parts = [f"{draw(st.sampled_from(('first', 'last')))}: {draw(st.integers(1, 5))}"]
    if target == "Issue":
        filters = []
        state = draw(st.sampled_from((None, "OPEN", "CLOSED", "ALL")))
        if state:
            filters.append(f"state: {state}")
        assignee = draw(st.sampled_from((None, "admin", "none", "member")))
        if assignee:
            filters.append(f'assignee: "{assignee}"')
        names = draw(st.sampled_from((None, '["bug"]', '["UI", "bug"]', '["émoji 🐛"]')))
        if names:
            filters.append(f"labels: {names}")
        q = draw(st.sampled_from((None, "needle", "ü", "same")))
        if q:
            filters.append(f'q: "{q}"')
        if filters:
            parts.append(f"filter: {{{', '.join(filters)}}}")
        if draw(st.booleans()):
            order = draw(st.sampled_from(("NUMBER", "CREATED", "UPDATED", "PRIORITY")))
            direction = draw(st.sampled_from(("ASC", "DESC")))
            parts.append(f"orderBy: {{field: {order}, direction: {direction}}}")
    return ", ".join(parts)


@st.composite
def selection(draw: st.DrawFn, type_name: str, depth: int) -> str:
    """A selection set's contents on `type_name`, at object level `depth` (1 = root field):
    unique response names, random aliases, `__typename` and inline fragments."""
    fields = GRAPH[type_name]
    names = sorted(fields)
    if depth >= MAX_DEPTH:
        names = [n for n in names if fields[n] == SCALAR]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=5))
    used: set[str] = set()
    items: list[str] = []
    for n, name in enumerate(chosen):
        alias = draw(st.sampled_from((None, *ALIASES)))
        response = f"{alias}{n}" if alias else name
        if response in used:
            response = f"{name}{n}"
        used.add(response)
        head = name if response == name else f"{response}: {name}"
        kind, target = fields[name]
        if kind == CONNECTION:
            item = f"{head}({draw(page_arguments(target))}) {{ {draw(connection(target, depth))} }}"
        elif kind in (OBJECT, LIST):
            item = f"{head} {{ {draw(selection(target, depth + 1))} }}"
        else:
            item = head
        if draw(st.integers(0, 9)) == 0:
            item = f"... on {type_name} {{ {item} }}"
        items.append(item)
    if draw(st.integers(0, 4)) == 0:
        items.insert(draw(st.integers(0, len(items))), "__typename")
    return " ".join(items)


@st.composite
def connection(draw: st.DrawFn, target: str, depth: int) -> str:
    """A connection's selection: some of totalCount, pageInfo, edges and nodes."""
    parts = draw(
        st.lists(
            st.sampled_from(("totalCount", "pageInfo", "edges", "nodes", "__typename")),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    items = []
    for part in parts:
        if part == "pageInfo":
            info = draw(
                st.lists(
                    st.sampled_from(("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")),
                    min_size=1,
                    max_size=4,
                    unique=True,
                )
            )
            items.append(f"pageInfo {{ {' '.join(info)} }}")
        elif part == "edges":
            cursor = "cursor " if draw(st.booleans()) else ""
            items.append(f"edges {{ {cursor}node {{ {draw(selection(target, depth + 1))} }} }}")
        elif part == "nodes":
            items.append(f"nodes {{ {draw(selection(target, depth + 1))} }}")
        else:
            items.append(part)
    return " ".join(items)


# Mostly objects the callers can see, sometimes hidden or missing ones.
SLUGS = ("acme",) * 6 + ("other", "nope")
KEYS = ("WEB",) * 4 + ("web", "API", "API", "OTH", "ZZZ")


@st.composite
def read_query(draw: st.DrawFn) -> tuple[str, str]:
    """A caller and a document of one or two root fields over the read graph."""
    roots = draw(
        st.lists(
            st.sampled_from(("viewer", "workspace", "project", "issue")),
            min_size=1,
            max_size=2,
        )
    )
    items = []
    for n, root in enumerate(roots):
        alias = f"r{n}: " if n or draw(st.booleans()) else ""
        slug = draw(st.sampled_from(SLUGS))
        if root == "viewer":
            head, target = "viewer", "User"
        elif root == "workspace":
            head, target = f'workspace(slug: "{slug}")', "Workspace"
        elif root == "project":
            key = draw(st.sampled_from(KEYS))
            head, target = f'project(workspace: "{slug}", key: "{key}")', "Project"
        else:
            key = draw(st.sampled_from(KEYS))
            number = draw(st.sampled_from((*range(1, 10), 1, 3, 42)))
            head = f'issue(workspace: "{slug}", project: "{key}", number: {number})'
            target = "Issue"
        items.append(f"{alias}{head} {{ {draw(selection(target, 1))} }}")
    return draw(st.sampled_from(CALLERS)), "{ " + " ".join(items) + " }"


GENERATED_EXAMPLES = 60


def generated_queries() -> list[tuple[str, str]]:
    """The (caller, document) pairs Hypothesis draws, deterministically."""
    drawn: list[tuple[str, str]] = []

    @hypothesis_settings(
        max_examples=GENERATED_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(read_query())
    def draw(case: tuple[str, str]) -> None:
        drawn.append(case)

    draw()
    return drawn


async def test_generated_selections(
    rich_world: World,
    parity_of: Callable[[dict[str, str]], Parity],
) -> None:
    """Random selection sets over the read graph (depth at most 5, pages of 1 to 5), each
    as a random caller; on a difference the shortest differing documents are shown first."""
    cases = generated_queries()
    assert len(cases) >= GENERATED_EXAMPLES // 2
    runners = {caller: parity_of(rich_world.h(caller)) for caller in CALLERS}
    answered = 0
    for caller, query in cases:
        answer = await runners[caller].both(query)
        answered += answer.status == 200 and answer.body.get("data") is not None
    mismatches = sorted((m for runner in runners.values() for m in runner.mismatches), key=len)
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ:\n" + "\n".join(
        mismatches[:3]
    )
    assert answered >= len(cases) // 2, answered


NODE = """query($id: ID!) { node(id: $id) { id __typename
  ... on User { username displayName email }
  ... on Workspace { slug viewerRole projects(first: 2) { nodes { key } } }
  ... on Membership { role user { username } }
  ... on Project { key issues(first: 2) { totalCount nodes { number } } }
  ... on Label { name color }
  ... on Issue { number title labels { name } assignee { username } }
  ... on Comment { body author { username } issue { number } }
  ... on Event { type subjectId data actor { username } project { key } issue { number } }
  ... on Invitation { role }
} }"""
EVENTS = """query($n: Int) { workspace(slug: "acme") { events(first: $n) { totalCount
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { id type subjectId data createdAt actor { username }
    project { key } issue { number } } } } } }"""


async def _add_events(rich_world: World) -> list[int]:
    """Events of acme (one naming a deleted issue, one with no actor) and one of `other`."""
    acme, other = await Workspace.get(slug="acme"), await Workspace.get(slug="other")
    web = await Project.get(workspace=acme, key="WEB")
    issue = await Issue.filter(project=web).order_by("number").first()
    assert issue is not None
    made = [
        await Event.create(
            workspace=acme,
            actor=rich_world.users["admin"],
            type="issue.created",
            subject_id=to_global_id("Issue", issue.id),
            project_id=web.id,
            issue_id=issue.id,
            data={"title": "Ünïcode ✓", "labels": ["a", "b"], "n": 3, "nested": {"x": None}},
        ),
        await Event.create(
            workspace=acme,
            actor=None,
            type="issue.deleted",
            subject_id=to_global_id("Issue", 999_999),
            project_id=web.id,
            issue_id=999_999,
            data={},
        ),
        await Event.create(
            workspace=other, actor=rich_world.users["stranger"], type="x", subject_id="y", data={}
        ),
    ]
    return [event.id for event in made]


async def test_events_and_nodes(
    rich_world: World, parity_of: Callable[[dict[str, str]], Parity], caller: str
) -> None:
    """`Workspace.events` paged both ways, and `node(id:)` for an object of every type, one
    of another workspace, a malformed id and an invitation (left to the resolvers)."""
    events = await _add_events(rich_world)
    parity = parity_of(rich_world.h(caller))
    for n in (1, 2, 5):
        await parity.both(EVENTS, {"n": n})
    ids = [to_global_id("Event", pk) for pk in events]
    for model, type_name in (
        (User, "User"),
        (Workspace, "Workspace"),
        (Membership, "Membership"),
        (Project, "Project"),
        (Label, "Label"),
        (Issue, "Issue"),
        (Comment, "Comment"),
    ):
        for row in await model.all().order_by("id").limit(3):
            ids.append(to_global_id(type_name, row.id))
    ids += [to_global_id("Issue", 10**12), "not-an-id", to_global_id("Invitation", 1)]
    for global_id in ids:
        await parity.both(NODE, {"id": global_id})
    many = NODE.replace("$id: ID!", "$ids: [ID!]!").replace("node(id: $id)", "nodes(ids: $ids)")
    await parity.both(many, {"ids": ids[:-1]})  # every type, twice one of them, and nonsense
    await parity.both(many, {"ids": [*ids[:3], ids[0]]})
    await parity.both(many, {"ids": ids})  # with an invitation: the resolvers'
    await parity.both(many, {"ids": []})
    parity.check()
