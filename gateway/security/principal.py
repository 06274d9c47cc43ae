"""Who is asking: the one principal both APIs hand to the services."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    """What a credential may do, on top of what its user's roles allow."""

    read = "read"
    write = "write"
    admin = "admin"

    def covers(self, needed: Scope) -> bool:
        order = list(Scope)
        return order.index(self) >= order.index(needed)


class TokenKind(StrEnum):
    access = "access"  # a JWT from the token endpoint: the user's full rights
    personal = "personal"  # a `sy_pat_…` token: narrowed by its scopes


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user and what the presented credential allows."""

    user_id: int
    username: str
    is_site_admin: bool
    kind: TokenKind
    scopes: frozenset[Scope]
    token_id: int | None = None  # the personal access token's id, when kind is personal

    def allows(self, needed: Scope) -> bool:
        """Does the credential's scope permit an action that needs `needed`?"""
        return any(s.covers(needed) for s in self.scopes)
