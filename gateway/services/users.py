"""Accounts: sign-up, reading users, and the viewer changing their own account.

Every rule about a user's fields lives here, so REST and GraphQL reject the same input with the
same field errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
)
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from gateway.core.counters import Throttle
from gateway.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from gateway.core.ids import to_global_id
from gateway.core.settings import Settings
from gateway.core.validation import InputModel, Omittable
from gateway.repositories import tokens, users
from gateway.security.passwords import hash_password
from gateway.security.principal import Principal, Scope
from gateway.services import sessions
from gateway.services.scopes import require_scope
from gateway.services.versioning import check_version
from models import User

USERNAME = re.compile(r"[a-z0-9-]{2,39}")
PASSWORD_MIN, PASSWORD_MAX = 8, 256
DISPLAY_NAME_MAX = 100
EMAIL_MAX = 254
SIGNUP_DISABLED = "Sign-up is disabled on this server"


def _email_syntax(raw: str) -> str:
    """`raw` if it is an email address (so the models list a bad one with the other fields)."""
    # Syntax only, never delivery; `test_environment` lets the RFC 2606 testing domain `.test`
    # through too (a valid address that generated clients and test suites use).
    try:
        validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return raw


# The input types of both APIs: their constraints are what OpenAPI documents and what
# validation enforces first; the checks below repeat them for callers that skip the models.
UsernameIn = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9-]{2,39}$")]
"""2 to 39 of a-z, A-Z, 0-9 and `-`; folded to lower case."""
PasswordIn = Annotated[
    StrictStr, StringConstraints(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
]
DisplayNameIn = Annotated[StrictStr, StringConstraints(max_length=DISPLAY_NAME_MAX)]
EmailIn = Annotated[
    StrictStr,
    StringConstraints(max_length=EMAIL_MAX),
    AfterValidator(_email_syntax),
    Field(json_schema_extra={"format": "email"}),
]


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as one viewer may see them: `email` is None unless the viewer is that user or a
    site admin. Both APIs render this, never the ORM row (which carries the password hash)."""

    pk: int
    node_id: str
    username: str
    email: str | None
    display_name: str
    is_site_admin: bool
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignUp:
    email: str
    username: str
    password: str
    display_name: str | None = None


class ViewerChanges(InputModel):
    """A partial update of the viewer's account, as both APIs accept it: an omitted field is
    left as it is; an explicit null would be a silent no-op, so it is refused."""

    model_config = ConfigDict(frozen=True)

    display_name: Omittable[DisplayNameIn] = Field(
        default=None, description="Up to 100 characters."
    )
    email: Omittable[EmailIn] = Field(default=None, description="Needs `current_password`.")
    password: Omittable[PasswordIn] = Field(
        default=None,
        description="8 to 256 characters. Needs `current_password`.",
    )
    current_password: Omittable[StrictStr] = Field(
        default=None,
        description="Required to change `email` or `password`.",
    )


def _render(user: User, *, with_email: bool) -> UserView:
    return UserView(
        pk=user.id,
        node_id=to_global_id("User", user.id),
        username=user.username,
        email=user.email if with_email else None,
        display_name=user.display_name,
        is_site_admin=user.is_site_admin,
        version=user.version,
        created_at=user.created_at,
    )


def view(user: User, viewer: Principal) -> UserView:
    """`user` as `viewer` may see them."""
    sees_email = viewer.user_id == user.id or viewer.is_site_admin
    return _render(user, with_email=sees_email)


def _email(raw: str, errors: list[FieldError]) -> tuple[str, str]:
    """(email as stored, its lower-cased uniqueness key); appends to `errors` when invalid."""
    try:
        email = validate_email(
            raw.strip(), check_deliverability=False, test_environment=True
        ).normalized
    except EmailNotValidError as exc:
        errors.append(FieldError("email", str(exc)))
        return "", ""
    if len(email) > EMAIL_MAX:
        errors.append(FieldError("email", f"must be at most {EMAIL_MAX} characters"))
    return email, email.lower()


def _password(raw: str, errors: list[FieldError], field: str = "password") -> None:
    if not PASSWORD_MIN <= len(raw) <= PASSWORD_MAX:
        errors.append(
            FieldError(field, f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long")
        )


def _display_name(raw: str, errors: list[FieldError]) -> str:
    name = raw.strip()
    if len(name) > DISPLAY_NAME_MAX:
        errors.append(FieldError("display_name", f"must be at most {DISPLAY_NAME_MAX} characters"))
    return name


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        names = ", ".join(e.field for e in errors)
        raise ValidationFailed(f"Invalid input: {names}", errors=errors)


def _conflict(errors: list[FieldError]) -> Conflict:
    names = " and ".join(e.field for e in errors)
    return Conflict(f"That {names} is already taken", errors=errors)


async def _taken(username: str | None, email_key: str | None, user_id: int | None) -> Conflict:
    """Which unique field lost, asked again after the database refused a write (a concurrent
    request took the value between our check and our insert)."""
    errors: list[FieldError] = []
    if username is not None and await users.username_taken(username):
        errors.append(FieldError("username", "is already taken"))
    if email_key is not None and await users.email_taken(email_key, other_than=user_id):
        errors.append(FieldError("email", "is already taken"))
    return _conflict(errors or [FieldError("username", "or email is already taken")])


async def sign_up(data: SignUp, settings: Settings) -> UserView:
    """Create an account. Usernames are lower-cased first, so `Alice` and `alice` are one name;
    emails are unique case-insensitively through `email_key`."""
    if not settings.signup_enabled:
        raise Forbidden(SIGNUP_DISABLED)
    errors: list[FieldError] = []
    username = data.username.strip().lower()
    if not USERNAME.fullmatch(username):
        errors.append(FieldError("username", "must be 2 to 39 characters of a-z, 0-9 and -"))
    email, email_key = _email(data.email, errors)
    _password(data.password, errors)
    display_name = _display_name(data.display_name or "", errors)
    _raise_if(errors)

    taken: list[FieldError] = []
    if await users.username_taken(username):
        taken.append(FieldError("username", "is already taken"))
    if await users.email_taken(email_key):
        taken.append(FieldError("email", "is already taken"))
    if taken:
        raise _conflict(taken)
    password_hash = await hash_password(data.password)
    try:
        user = await users.create(
            username=username,
            email=email,
            email_key=email_key,
            display_name=display_name,
            password_hash=password_hash,
        )
    except IntegrityError as exc:
        raise await _taken(username, email_key, None) from exc
    # The new user is the only one who sees this answer: with their email.
    return _render(user, with_email=True)


async def _viewer_row(principal: Principal) -> User:
    user = await users.get_active(principal.user_id)
    if user is None:  # deactivated since the token was checked
        raise Unauthenticated("Authentication required")
    return user


async def get_viewer(principal: Principal) -> UserView:
    """The signed-in user."""
    require_scope(principal, Scope.read)
    return view(await _viewer_row(principal), principal)


def username_key(username: str) -> str:
    """A username as stored and looked up: clients may write it in any case, with spaces."""
    return username.strip().lower()


async def get_by_username(principal: Principal, username: str) -> UserView:
    """Any active user by username; NOT_FOUND otherwise."""
    require_scope(principal, Scope.read)
    user = await users.by_username(username_key(username))
    if user is None or not user.is_active:
        raise NotFound(f"No user named {username!r}")
    return view(user, principal)


async def visible_by_pk(principal: Principal, pks: list[int]) -> list[UserView | None]:
    """One view per pk, in order: any active user is visible to every signed-in principal
    (as `GET /users/{username}` is); None for the rest."""
    require_scope(principal, Scope.read)
    found = await users.active_by_ids(pks)
    return [view(found[pk], principal) if pk in found else None for pk in pks]


async def update_viewer(
    principal: Principal,
    changes: ViewerChanges,
    *,
    throttle: Throttle,
    expected_version: int | None = None,
) -> UserView:
    """Change the viewer's display name, email and/or password. Email and password changes
    need the current password; a new password also signs out every session (refresh token).
    PRECONDITION_FAILED when `expected_version` is stale."""
    require_scope(principal, Scope.write)
    user = await _viewer_row(principal)
    check_version(user.version, expected_version)
    errors: list[FieldError] = []
    display_name = None
    if changes.display_name is not None:
        display_name = _display_name(changes.display_name, errors)
    email = email_key = None
    if changes.email is not None:
        email, email_key = _email(changes.email, errors)
    if changes.password is not None:
        _password(changes.password, errors)
    sensitive = changes.email is not None or changes.password is not None
    current = changes.current_password
    if sensitive and current is None:
        errors.append(FieldError("current_password", "is required to change email or password"))
    _raise_if(errors)

    if sensitive and current is not None:
        await sessions.confirm_password(user, current, throttle=throttle)
    if email_key is not None and await users.email_taken(email_key, other_than=user.id):
        raise _conflict([FieldError("email", "is already taken")])
    password_hash = None
    if changes.password is not None:
        password_hash = await hash_password(changes.password)
    try:
        async with in_transaction():
            await users.save_changes(
                user,
                display_name=display_name,
                email=email,
                email_key=email_key,
                password_hash=password_hash,
            )
            if password_hash is not None:
                await tokens.revoke_all_refresh(user.id, datetime.now(UTC))
    except IntegrityError as exc:
        raise await _taken(None, email_key, user.id) from exc
    return view(user, principal)
