"""`gateway.services.access` on its own: the order of its checks (visibility, then scope, then
role), scopes narrowing site admins too, and `Access.allows` agreeing with `Access.require`."""

from __future__ import annotations

import pytest

from gateway.core.errors import DomainError, Forbidden, NotFound
from gateway.security.principal import Principal, Scope, TokenKind
from gateway.services.access import RULES, Action, authorize, require_scope_of, resolve
from models import Membership, Role, User, Workspace
from tests.auth_helpers import make_user


def as_principal(user: User, *scopes: Scope) -> Principal:
    kind = TokenKind.personal if scopes else TokenKind.access
    return Principal(
        user.id, user.username, user.is_site_admin, kind, frozenset(scopes or Scope), None
    )


@pytest.fixture
async def acme() -> dict[str, User]:
    users = {n: await make_user(n) for n in ("vic", "ada", "sam")}
    users["root"] = await make_user("root", site_admin=True)
    workspace = await Workspace.create(slug="acme", name="Acme")
    await Membership.create(workspace=workspace, user=users["vic"], role=Role.viewer)
    await Membership.create(workspace=workspace, user=users["ada"], role=Role.admin)
    return users


async def test_every_action_has_a_rule() -> None:
    assert set(RULES) == set(Action)
    assert RULES[Action.read].scope is Scope.read
    assert RULES[Action.write_content].scope is Scope.write
    assert RULES[Action.manage_members].scope is Scope.admin


async def test_visibility_comes_first(acme: dict[str, User]) -> None:
    """A stranger with a read-only token asking to rename gets NOT_FOUND, not a scope error,
    and exactly the answer a nonexistent workspace gets."""
    sam = as_principal(acme["sam"], Scope.read)
    with pytest.raises(NotFound) as hidden:
        await authorize(sam, "acme", Action.manage_workspace)
    with pytest.raises(NotFound) as missing:
        await authorize(sam, "nope", Action.manage_workspace)
    assert hidden.value.detail.replace("acme", "nope") == missing.value.detail
    with pytest.raises(NotFound):
        await authorize(sam, 10**12, Action.read)


async def test_scope_comes_before_role(acme: dict[str, User]) -> None:
    vic = as_principal(acme["vic"], Scope.read)
    with pytest.raises(Forbidden, match="'admin' scope"):
        await authorize(vic, "acme", Action.manage_members)
    with pytest.raises(Forbidden, match="needs the admin role"):
        await authorize(as_principal(acme["vic"]), "acme", Action.manage_members)


async def test_scopes_narrow_site_admins(acme: dict[str, User]) -> None:
    root_read = as_principal(acme["root"], Scope.read)
    access = await authorize(root_read, "acme", Action.read)
    assert access.role is Role.owner  # a site admin with no membership
    with pytest.raises(Forbidden, match="'write' scope"):
        await authorize(root_read, "acme", Action.write_content)
    with pytest.raises(Forbidden, match="'admin' scope"):
        require_scope_of(root_read, Action.create_workspace)
    full = await authorize(as_principal(acme["root"]), "acme", Action.manage_workspace)
    assert full.role is Role.owner


@pytest.mark.parametrize("scope", list(Scope))
@pytest.mark.parametrize("name", ["vic", "ada", "root"])
async def test_allows_agrees_with_require(acme: dict[str, User], name: str, scope: Scope) -> None:
    access = await resolve(as_principal(acme[name], scope), "acme")
    for action in Action:
        if RULES[action].role is None:
            continue
        try:
            access.require(action)
            passed = True
        except DomainError:
            passed = False
        assert access.allows(action) is passed, (name, scope, action)
