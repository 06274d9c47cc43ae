"""REST glue for keyset paging: `?limit=&cursor=` in; `{"items", "next_cursor"}` and a
`Link: <…>; rel="next"` header out. The paging itself is `gateway.core.paging.keyset_page` (or the
compiled reads' keyset pages, `gateway.reads`).

A compiled list documents `page_of(shape)` and answers with `gateway.rest.compiled.Reads.page`;
a list the service pages (`/me/tokens`) builds its body with `page_out`:

    @router.get("", response_model=page_named(Token))
    async def list_tokens(paging: PageParamsDep, request: Request, response: Response, …):
        page = await tokens.list_tokens(principal, **paging.args())
        to_item = lambda row: Token.of(tokens.row_view(row))
        return page_out(page, to_item, request=request, response=response)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from gateway.core.paging import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, Page, PageArgs
from gateway.rest.shapes import Shape

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageParams:
    """The paging query parameters every REST list accepts."""

    limit: int
    cursor: str | None

    def args(self) -> PageArgs:
        """The same parameters as `keyset_page` takes them (REST only pages forward)."""
        return {"first": self.limit, "after": self.cursor}


async def page_params(
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_LIMIT, description=f"Items per page, 1..{MAX_LIMIT}."),
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="Opaque: the `next_cursor` of the previous page. Omit for the first.",
        ),
    ] = None,
) -> PageParams:
    """FastAPI dependency (`async def`: a class or a plain `def` would run in the thread pool,
    a hop on every list request)."""
    return PageParams(limit, cursor)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


class PageOut(BaseModel, Generic[T]):
    """One page of a list."""

    model_config = ConfigDict(extra="forbid")

    items: list[T] = Field(description="The items of this page, in the list's order.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def page_out(
    page: Page,
    to_item: Callable[[dict[str, Any]], T],
    *,
    request: Request,
    response: Response,
) -> PageOut[T]:
    """The response body for `page`; sets `Link: <this URL with cursor=next>; rel="next"`
    (other query parameters kept, so filters and sort carry over) when there is a next page."""
    next_cursor = page.next_cursor
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return PageOut[T](items=[to_item(row) for row in page.rows], next_cursor=next_cursor)


@cache
def page_of(shape: Shape) -> type[BaseModel]:
    """The documented body of a list of `shape`: `IssuePage` for `Issue`…"""
    return page_named(shape.model)


@cache
def page_named(item: type[BaseModel]) -> type[BaseModel]:
    """`PageOut[item]` under the name generated clients should use: `TokenPage` for `Token`
    (not `PageOut_Token_`)."""
    page = PageOut[item]  # type: ignore[valid-type]
    return create_model(
        f"{item.__name__}Page", __base__=page, __doc__=f"A page of {item.__name__}s."
    )
