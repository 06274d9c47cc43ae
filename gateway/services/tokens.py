"""Personal access tokens: the viewer's long-lived `sy_pat_…` credentials for scripts.

Managing them needs a JWT session or a token with the `admin` scope, so a leaked `read` or
`write` token cannot mint itself a stronger sibling. The secret is returned once, at creation;
only its SHA-256 and a short display prefix are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

from gateway.core.errors import FieldError, NotFound, ValidationFailed
from gateway.core.paging import Page, PageArgs
from gateway.repositories import tokens
from gateway.security.opaque import PAT_DISPLAY_LENGTH, PAT_PREFIX, digest, new_secret
from gateway.security.principal import Principal, Scope
from gateway.services.scopes import require_scope
from models import PersonalAccessToken

NAME_MAX = 100
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as listed: everything but the secret."""

    id: int
    name: str
    prefix: str
    scopes: tuple[Scope, ...]
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewToken:
    token: TokenView
    secret: str


@dataclass(frozen=True, slots=True)
class TokenRequest:
    name: str
    scopes: list[Scope]
    expires_in_days: int | None = None


def _view(record: PersonalAccessToken) -> TokenView:
    return TokenView(
        id=record.id,
        name=record.name,
        prefix=record.prefix,
        scopes=tuple(Scope(s) for s in record.scopes),
        expires_at=record.expires_at,
        last_used_at=record.last_used_at,
        created_at=record.created_at,
    )


def row_view(row: dict[str, Any]) -> TokenView:
    """A listed token (a row of `tokens.PERSONAL_FIELDS`) as a `TokenView`."""
    return TokenView(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=tuple(Scope(s) for s in row["scopes"]),
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        created_at=row["created_at"],
    )


async def list_tokens(principal: Principal, **paging: Unpack[PageArgs]) -> Page:
    """The viewer's unrevoked tokens (expired ones included, so they can be cleaned up),
    newest first; rows for `row_view`."""
    require_scope(principal, Scope.admin)
    return await tokens.live_personal_page(principal.user_id, paging)


async def get_token(principal: Principal, token_id: int) -> TokenView:
    """One of the viewer's unrevoked tokens; another user's is NOT_FOUND, as if absent."""
    require_scope(principal, Scope.admin)
    record = await tokens.live_personal(principal.user_id, token_id)
    if record is None:
        raise NotFound(f"No token with id {token_id}")
    return _view(record)


async def create_token(principal: Principal, request: TokenRequest) -> NewToken:
    """A new token with the given scopes, valid for `expires_in_days` (1..365) or, when that
    is omitted, until revoked."""
    require_scope(principal, Scope.admin)
    errors: list[FieldError] = []
    name = request.name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        errors.append(FieldError("name", f"must be 1 to {NAME_MAX} characters"))
    if not request.scopes:
        errors.append(FieldError("scopes", "must name at least one scope"))
    days = request.expires_in_days
    if days is not None and not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("expires_in_days", f"must be 1 to {MAX_DAYS}"))
    if errors:
        raise ValidationFailed(
            f"Invalid input: {', '.join(e.field for e in errors)}", errors=errors
        )
    secret = new_secret(PAT_PREFIX)
    now = datetime.now(UTC)
    record = await tokens.create_personal(
        user_id=principal.user_id,
        name=name,
        token_digest=digest(secret),
        prefix=secret[:PAT_DISPLAY_LENGTH],
        # Stored in Scope order and without duplicates, so equal sets look equal.
        scopes=[s.value for s in Scope if s in request.scopes],
        expires_at=now + timedelta(days=days) if days is not None else None,
    )
    return NewToken(token=_view(record), secret=secret)


async def revoke_token(principal: Principal, token_id: int) -> None:
    """Revoke one of the viewer's tokens; it stops working at once. Another user's token, or
    one already revoked, is NOT_FOUND."""
    require_scope(principal, Scope.admin)
    if not await tokens.revoke_personal(principal.user_id, token_id, datetime.now(UTC)):
        raise NotFound(f"No token with id {token_id}")
