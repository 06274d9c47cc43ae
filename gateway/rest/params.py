"""Request parameters every REST route shares: bounded integer path parameters, and one check
that no path, query or form parameter holds a NUL character.

The bounds are those of the columns the numbers are compared with (BIGINT primary keys, INTEGER
issue numbers), declared in OpenAPI as `minimum`/`maximum`: a number past them is a 422 naming
the parameter, never an overflow in the database driver.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path, Request

from gateway.core.validation import reject_nul

MAX_ROW_ID: Final = 2**63 - 1
MAX_ISSUE_NUMBER: Final = 2**31 - 1
_FORMS: Final = ("application/x-www-form-urlencoded", "multipart/form-data")

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The numeric id.")]
IssueNumber = Annotated[int, Path(ge=1, le=MAX_ISSUE_NUMBER, description="The issue number.")]


async def text_parameters(request: Request) -> None:
    """Router dependency: VALIDATION_FAILED naming each path, query or form parameter that
    holds a NUL character (request bodies are `InputModel`s, which refuse it themselves)."""
    fields = [*request.path_params.items(), *request.query_params.multi_items()]
    if request.headers.get("content-type", "").startswith(_FORMS):
        # FastAPI has parsed the form already (a form route's body); this reads its cache.
        form = await request.form()
        fields.extend((name, value) for name, value in form.multi_items() if isinstance(value, str))
    reject_nul(fields)
