"""`/api/v1/me/tokens`: the signed-in user's personal access tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, BeforeValidator, Field, StrictInt, StrictStr

from gateway.core.validation import InputModel
from gateway.http.deps import PrincipalDep
from gateway.rest.pages import PageOut, PageParamsDep, page_named, page_out
from gateway.rest.params import RowId
from gateway.rest.responses import FORBIDDEN_ADMIN_SCOPE, problem_response, problems
from gateway.security.principal import Scope
from gateway.services import tokens

router = APIRouter(prefix="/me/tokens", tags=["tokens"])

ScopeName = Literal["read", "write", "admin"]


def _integral(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


ExpiryDays = Annotated[StrictInt, Field(ge=1, le=tokens.MAX_DAYS), BeforeValidator(_integral)]
"""Days as an integer as JSON Schema has it: `30.0` is one too; strings and booleans are not.
(The bounds sit inside the validator, so OpenAPI shows `minimum`/`maximum`, not a stray `ge`.)"""


NOT_FOUND_TOKEN = problem_response("NOT_FOUND: no such token among the caller's unrevoked ones")


class Token(BaseModel):
    """A personal access token, without its secret."""

    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    scopes: list[Scope]
    expires_at: datetime | None = Field(description="Null: valid until revoked.")
    last_used_at: datetime | None = Field(
        description="Updated at most every few minutes, not on every request."
    )
    created_at: datetime

    @classmethod
    def of(cls, view: tokens.TokenView) -> Token:
        return cls.model_validate(view, from_attributes=True)


class NewToken(Token):
    token: str = Field(description="The secret (`sy_pat_…`). Shown this once, never again.")


class TokenCreate(InputModel):
    name: StrictStr = Field(
        max_length=tokens.NAME_MAX,
        pattern=r"\S",  # not blank: the name is trimmed
        description="What the token is for; 1 to 100 characters.",
    )
    scopes: list[ScopeName] = Field(
        min_length=1,
        max_length=len(Scope),
        description="`read` (reads), `write` (reads and changes), `admin` (everything the"
        " user may do, including managing tokens and members).",
    )
    expires_in_days: ExpiryDays | None = Field(
        default=None, description="1 to 365; omitted: valid until revoked."
    )


@router.get(
    "",
    summary="List personal access tokens",
    response_model=page_named(Token),
    responses=problems(FORBIDDEN_ADMIN_SCOPE),
)
async def list_tokens(
    paging: PageParamsDep, request: Request, response: Response, principal: PrincipalDep
) -> PageOut[Token]:
    """The caller's unrevoked tokens, newest first, expired ones included; never a secret.
    Paged with `limit` and `cursor` (`next_cursor`, and a `Link: rel="next"` header). Needs a
    signed-in session or a token with the `admin` scope."""
    page = await tokens.list_tokens(principal, **paging.args())
    return page_out(
        page, lambda row: Token.of(tokens.row_view(row)), request=request, response=response
    )


@router.post(
    "",
    status_code=201,
    summary="Create a personal access token",
    responses=problems(FORBIDDEN_ADMIN_SCOPE, validated=True),
)
async def create_token(
    body: TokenCreate, request: Request, response: Response, principal: PrincipalDep
) -> NewToken:
    """Create a token for scripts. The answer carries the secret in `token`: store it now,
    it cannot be shown again. Needs a signed-in session or a token with the `admin` scope."""
    created = await tokens.create_token(
        principal,
        tokens.TokenRequest(
            name=body.name,
            scopes=[Scope(s) for s in body.scopes],
            expires_in_days=body.expires_in_days,
        ),
    )
    response.headers["Location"] = str(
        request.app.url_path_for("tokens.get", token_id=str(created.token.id))
    )
    # A secret must not sit in any cache.
    response.headers["Cache-Control"] = "no-store"
    return NewToken(**Token.of(created.token).model_dump(), token=created.secret)


@router.get(
    "/{token_id}",
    name="tokens.get",
    summary="Get a personal access token",
    responses=problems(FORBIDDEN_ADMIN_SCOPE, NOT_FOUND_TOKEN),
)
async def get_token(token_id: RowId, principal: PrincipalDep) -> Token:
    """One of the caller's unrevoked tokens, without its secret."""
    return Token.of(await tokens.get_token(principal, token_id))


@router.delete(
    "/{token_id}",
    status_code=204,
    summary="Revoke a personal access token",
    responses=problems(FORBIDDEN_ADMIN_SCOPE, NOT_FOUND_TOKEN),
)
async def revoke_token(token_id: RowId, principal: PrincipalDep) -> Response:
    """Revoke one of the caller's tokens; it is refused from the next request on. Another
    user's token id is 404, as if it did not exist."""
    await tokens.revoke_token(principal, token_id)
    return Response(status_code=204)
