"""`/api/v1/users` (sign-up, profiles) and `/api/v1/me` (the signed-in user)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from gateway.core.validation import InputModel
from gateway.http.deps import SettingsDep, ThrottleDep
from gateway.reads.roots import Root
from gateway.rest import shapes
from gateway.rest.compiled import ReadsDep, written
from gateway.rest.conditional import ExpectedVersion
from gateway.rest.responses import (
    PRECONDITION_FAILED,
    UNAUTHENTICATED,
    VALIDATION_FAILED,
    problem_response,
    problems,
)
from gateway.services import users

router = APIRouter(tags=["users"])

_USERNAME = "2 to 39 characters of a-z, 0-9 and `-` (upper case is folded to lower)."
_PASSWORD = "8 to 256 characters."


class SignUpIn(InputModel):
    email: users.EmailIn = Field(description="Unique, case-insensitively.")
    username: users.UsernameIn = Field(description=_USERNAME)
    password: users.PasswordIn = Field(description=_PASSWORD)
    display_name: users.DisplayNameIn | None = Field(
        default=None, description="Up to 100 characters."
    )


USER_ONE = Root("user", "r0", obj=shapes.USER.read)
ME = Root("viewer", "r0", obj=shapes.USER.read)


def _location(request: Request, username: str) -> str:
    return str(request.app.url_path_for("users.get", username=username))


@router.post(
    "/users",
    status_code=201,
    summary="Sign up",
    response_model=shapes.USER.model,
    responses={
        403: problem_response("FORBIDDEN: sign-up is disabled on this server"),
        409: problem_response("CONFLICT: the username or email is already taken"),
        422: VALIDATION_FAILED,
    },
)
async def sign_up(body: SignUpIn, request: Request, settings: SettingsDep) -> Response:
    """Create an account; sign in afterwards at `/auth/token`.

    The username is lower-cased; username and email are unique (email case-insensitively).
    When the server has sign-up disabled (`GATEWAY_SIGNUP_ENABLED=false`) the answer is 403
    FORBIDDEN. The `Location` header names the new user."""
    view = await users.sign_up(
        users.SignUp(
            email=body.email,
            username=body.username,
            password=body.password,
            display_name=body.display_name,
        ),
        settings,
    )
    headers = {"Location": _location(request, view.username)}
    return await written(settings, view.pk, ME, {}, 201, headers)


@router.get(
    "/users/{username}",
    name="users.get",
    summary="Get a user",
    response_model=shapes.USER.model,
    responses=problems(
        not_found=problem_response("NOT_FOUND: no active user has that username"), cached=True
    ),
)
async def get_user(username: str, reads: ReadsDep) -> Response:
    """A user's public profile, by username (their email only to themselves or a site
    admin), with a strong `ETag`; `If-None-Match` with the current ETag answers 304."""
    explain = lambda: users.get_by_username(reads.principal, username)  # noqa: E731
    return await reads.one(USER_ONE, {"username": users.username_key(username)}, explain)


@router.get(
    "/me",
    summary="Get the signed-in user",
    response_model=shapes.USER.model,
    responses=problems(cached=True),
)
async def get_me(reads: ReadsDep) -> Response:
    """The user the bearer token belongs to, email included, with a strong `ETag`;
    `If-None-Match` with the current ETag answers 304."""
    explain = lambda: users.get_viewer(reads.principal)  # noqa: E731
    return await reads.one(ME, {}, explain)


@router.patch(
    "/me",
    summary="Update the signed-in user",
    response_model=shapes.USER.model,
    responses={
        401: UNAUTHENTICATED,
        403: problem_response("FORBIDDEN: the personal access token lacks the `write` scope"),
        409: problem_response("CONFLICT: the new email is already taken"),
        412: PRECONDITION_FAILED,
        422: VALIDATION_FAILED,
        429: problem_response("RATE_LIMITED: too many wrong `current_password` attempts"),
    },
)
async def update_me(
    body: users.ViewerChanges,
    reads: ReadsDep,
    throttle: ThrottleDep,
    version: ExpectedVersion,
) -> Response:
    """Change any of `display_name`, `email` and `password`; omitted fields stay as they are
    (null is refused).

    Changing the email or the password needs `current_password`; wrong guesses count towards
    the same limit as failed sign-ins. A new password signs out every session (all refresh
    tokens are revoked); personal access tokens keep working. Honours `If-Match`."""
    await users.update_viewer(reads.principal, body, throttle=throttle, expected_version=version)
    return await reads.written(ME, {})
