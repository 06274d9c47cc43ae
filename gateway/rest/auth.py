"""`/api/v1/auth/*`: sign-in (OAuth2 password grant), refresh-token rotation, sign-out."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field, StrictStr

from gateway.core.validation import InputModel
from gateway.http.deps import JwtCodecDep, SettingsDep, ThrottleDep
from gateway.http.forwarded import client_address
from gateway.rest.responses import (
    VALIDATION_FAILED,
    problem_response,
)
from gateway.services import sessions

router = APIRouter(prefix="/auth", tags=["auth"])

# RFC 6749 §5.1: responses carrying tokens must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenResponse(BaseModel):
    access_token: str = Field(description="A JWT for `Authorization: Bearer …`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Opaque, single use: trade it at `/auth/refresh` for a new pair."
    )


class RefreshRequest(InputModel):
    refresh_token: StrictStr = Field(description="The refresh token of the current session.")


def _pair(pair: sessions.TokenPair, response: Response) -> TokenResponse:
    response.headers.update(NO_STORE)
    return TokenResponse(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )


@router.post(
    "/token",
    summary="Sign in (OAuth2 password grant)",
    responses={
        401: problem_response("UNAUTHENTICATED: unknown user, wrong password or inactive account"),
        422: VALIDATION_FAILED,
        429: problem_response("RATE_LIMITED: too many failed attempts; see `Retry-After`"),
    },
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    throttle: ThrottleDep,
    codec: JwtCodecDep,
    settings: SettingsDep,
) -> TokenResponse:
    """Trade a username (or email) and password, sent as an
    `application/x-www-form-urlencoded` form, for an access token and a refresh token.

    Every failure is the same 401, whether the account is unknown, inactive or the password
    wrong. After a few failures on one account from one client address, that address must wait
    longer and longer between attempts (429 with `Retry-After`, even for the right password).
    Many failures on one account lock it for addresses that have failed on it, never for one
    that has not; many failures from one address, on any accounts, block that address."""
    pair = await sessions.login(
        form.username,
        form.password,
        address=client_address(request.scope, settings.trusted_proxies),
        throttle=throttle,
        codec=codec,
        settings=settings,
    )
    return _pair(pair, response)


@router.post(
    "/refresh",
    summary="Rotate a refresh token",
    responses={
        401: problem_response(
            "UNAUTHENTICATED: unknown, expired, revoked or already used refresh token"
            " (a reused one also revokes every token descended from the same sign-in)"
        ),
        422: VALIDATION_FAILED,
    },
)
async def refresh_token(
    body: RefreshRequest, response: Response, codec: JwtCodecDep, settings: SettingsDep
) -> TokenResponse:
    """Spend a refresh token for a new access token and a new refresh token.

    Each refresh token works once. Presenting one that was already used means it leaked, so
    the whole chain of tokens from that sign-in is revoked and the answer is 401."""
    pair = await sessions.refresh(body.refresh_token, codec=codec, settings=settings)
    return _pair(pair, response)


@router.post(
    "/logout",
    status_code=204,
    summary="Sign out",
    responses={
        401: problem_response("UNAUTHENTICATED: this server never issued that refresh token"),
        422: VALIDATION_FAILED,
    },
)
async def logout(body: RefreshRequest) -> Response:
    """Revoke the refresh token and every token of its sign-in, so the session cannot be
    refreshed again. Access tokens already issued stay valid until they expire (minutes).
    Signing out twice is fine."""
    await sessions.logout(body.refresh_token)
    return Response(status_code=204)
