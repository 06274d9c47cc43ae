"""Queries on users."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

from models import User

_CALLER_PG = "SELECT id, username, is_site_admin FROM users WHERE id = $1 AND is_active"
_CALLER_SQLITE = "SELECT id, username, is_site_admin FROM users WHERE id = ? AND is_active"


@dataclass(frozen=True, slots=True)
class Caller:
    """What authenticating a request needs of its user."""

    id: int
    username: str
    is_site_admin: bool


async def active_caller(user_id: int) -> Caller | None:
    """The active user behind an access token. Every authenticated request asks, so it is
    one prepared statement (`tortoise.connections`), without building a query or a model."""
    client = connections.get("default")
    postgres = client.capabilities.dialect == "postgres"
    _, rows = await client.execute_query(_CALLER_PG if postgres else _CALLER_SQLITE, [user_id])
    if not rows:
        return None
    row = rows[0]
    return Caller(int(row[0]), str(row[1]), bool(row[2]))


async def get_active(user_id: int) -> User | None:
    return await User.filter(id=user_id, is_active=True).first()


async def active_by_ids(user_ids: list[int]) -> dict[int, User]:
    """Active users among `user_ids`, by id (one statement, for DataLoaders and `node`)."""
    return {u.id: u for u in await User.filter(id__in=user_ids, is_active=True)}


async def by_username(username: str) -> User | None:
    return await User.filter(username=username).first()


async def by_login(identifier: str) -> User | None:
    """The user a sign-in names: by email when it has an `@` (usernames cannot), else by
    username; both compared lower-cased, as they are stored."""
    key = identifier.strip().lower()
    if "@" in key:
        return await User.filter(email_key=key).first()
    return await User.filter(username=key).first()


async def username_taken(username: str) -> bool:
    return await User.filter(username=username).exists()


async def email_taken(email_key: str, *, other_than: int | None = None) -> bool:
    query = User.filter(email_key=email_key)
    if other_than is not None:
        query = query.exclude(id=other_than)
    return await query.exists()


async def create(
    *, username: str, email: str, email_key: str, display_name: str, password_hash: str
) -> User:
    return await User.create(
        username=username,
        email=email,
        email_key=email_key,
        display_name=display_name,
        password_hash=password_hash,
    )


async def set_password_hash(user_id: int, password_hash: str) -> None:
    await User.filter(id=user_id).update(password_hash=password_hash)


async def save_changes(
    user: User,
    *,
    display_name: str | None = None,
    email: str | None = None,
    email_key: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Write the given fields (None = unchanged), bump the version and set `updated_at`."""
    changed: list[str] = []
    if display_name is not None:
        user.display_name = display_name
        changed.append("display_name")
    if email is not None and email_key is not None:
        user.email, user.email_key = email, email_key
        changed += ["email", "email_key"]
    if password_hash is not None:
        user.password_hash = password_hash
        changed.append("password_hash")
    if changed:
        user.version += 1
        await user.save(update_fields=[*changed, "version", "updated_at"])
    return user
