"""List filters as SQL conditions (the compiled twin of the repositories' querysets): an
issue list's `IssueFilter` (`gateway.repositories.issues._matching`) and a feed's
`EventFilter` (`gateway.repositories.events.page_of_workspace`). Every value is a parameter,
named by `param`; the conditions apply to the list's rows, aliased `rows`."""

from __future__ import annotations

from collections.abc import Callable

from gateway.repositories.events import EventFilter
from gateway.repositories.issues import IssueFilter

Param = Callable[..., str]  # (name, kind="text") → the placeholder of the page's parameter


def where_sql(where: IssueFilter | EventFilter, rows: str, param: Param, *, pg: bool) -> list[str]:
    """The conditions `where` puts on `rows`."""
    if isinstance(where, EventFilter):
        return _events(where, rows, param)
    return _issues(where, rows, param, pg=pg)


def _events(where: EventFilter, rows: str, param: Param) -> list[str]:
    found: list[str] = []
    if where.type is not None:
        found.append(f"{rows}.type = {param('type')}")
    if where.project is not None:
        found.append(
            f"{rows}.project_id = (SELECT fp.id FROM projects fp"
            f" WHERE fp.workspace_id = {rows}.workspace_id AND fp.key = {param('project')})"
        )
    return found


def _issues(where: IssueFilter, rows: str, param: Param, *, pg: bool) -> list[str]:
    found: list[str] = []
    if where.state is not None:
        found.append(f"{rows}.state = {param('state')}")
    if where.assignee == "none":
        found.append(f"{rows}.assignee_id IS NULL")
    elif where.assignee is not None:
        found.append(
            f"{rows}.assignee_id IN"
            f" (SELECT fu.id FROM users fu WHERE fu.username = {param('assignee')})"
        )
    if where.labels:
        names = (
            f"SELECT json_array_elements_text({param('labels')}::json)"
            if pg
            else f"SELECT value FROM json_each({param('labels')})"
        )
        found.append(
            f"(SELECT count(DISTINCT fl.label_id) FROM issue_labels fl JOIN labels fn"
            f" ON fn.id = fl.label_id WHERE fl.issue_id = {rows}.id AND fn.name_key IN"
            f" ({names})) = {param('label_count', 'int')}"
        )
    if where.q is not None:
        q = param("q")
        found.append(
            f"(upper({rows}.title) LIKE upper({q}) ESCAPE '\\'"
            f" OR upper({rows}.body) LIKE upper({q}) ESCAPE '\\')"
        )
    return found
