"""The permission model: who may do what in a workspace, as data.

Every service that touches a workspace or anything inside it asks `authorize()` first. The rules
of domain.md live in one table (`RULES`: action → minimum role and token scope) instead of being
scattered as ifs, so REST and GraphQL (which call the same services) cannot disagree, and a new
noun only has to pick its `Action`.

The checks run in a fixed order, each answering a different question:

1. visibility — a caller with no role in the workspace gets NOT_FOUND, exactly as for a
   workspace that does not exist, so existence never leaks;
2. scope — a personal access token narrows its user: FORBIDDEN naming the missing scope;
3. role — a member whose role is too low: FORBIDDEN naming the role needed.

A site admin acts as an owner in every workspace, member or not (domain.md: "may read and manage
every workspace"); their token's scope still narrows them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from gateway.core.errors import Forbidden, NotFound
from gateway.repositories import workspaces as workspace_repo
from gateway.repositories.workspaces import WorkspaceRow
from gateway.security.principal import Principal, Scope
from gateway.services.scopes import require_scope
from models import Role


class Action(StrEnum):
    """Everything a caller may ask to do, at the granularity the role table distinguishes."""

    create_workspace = "create_workspace"
    read = "read"  # the workspace and everything in it: projects, issues, members, events
    write_content = "write_content"  # create/edit/close/reopen issues, comment
    edit_own_comment = "edit_own_comment"  # the caller checks authorship; else `moderate`
    moderate = "moderate"  # delete any comment, delete issues
    manage_labels = "manage_labels"
    manage_projects = "manage_projects"  # create, update, archive
    leave = "leave"  # remove one's own membership
    manage_members = "manage_members"  # invite, change roles up to admin, remove non-owners
    see_invitations = "see_invitations"  # the workspace's invitations, which name outsiders
    answer_invitation = "answer_invitation"  # accept or decline one addressed to the caller
    see_webhooks = "see_webhooks"  # the workspace's webhooks and their delivery log
    manage_webhooks = "manage_webhooks"  # create, change, delete webhooks; redeliver
    manage_owners = "manage_owners"  # make or remove owners
    manage_workspace = "manage_workspace"  # rename, delete
    delete_projects = "delete_projects"


@dataclass(frozen=True, slots=True)
class Rule:
    """What an action needs: a minimum workspace role (None when no workspace is involved yet)
    and the token scope that must cover it."""

    role: Role | None
    scope: Scope


# domain.md's role table, plus the scope each row needs. Content (issues, comments, labels) is a
# `write`; administration of members, projects and the workspace itself is an `admin`.
RULES: Final[Mapping[Action, Rule]] = MappingProxyType(
    {
        Action.create_workspace: Rule(None, Scope.admin),
        Action.read: Rule(Role.viewer, Scope.read),
        Action.write_content: Rule(Role.member, Scope.write),
        Action.edit_own_comment: Rule(Role.member, Scope.write),
        Action.moderate: Rule(Role.admin, Scope.write),
        Action.manage_labels: Rule(Role.admin, Scope.write),
        Action.manage_projects: Rule(Role.admin, Scope.admin),
        # Any member may leave, but it is still a membership change, hence `admin` scope.
        Action.leave: Rule(Role.viewer, Scope.admin),
        Action.manage_members: Rule(Role.admin, Scope.admin),
        Action.see_invitations: Rule(Role.admin, Scope.read),
        # Joining (or refusing to join) is a membership change, like leaving: `admin` scope.
        Action.answer_invitation: Rule(None, Scope.admin),
        # Webhooks send the workspace's events elsewhere: admins only, even to look.
        Action.see_webhooks: Rule(Role.admin, Scope.read),
        Action.manage_webhooks: Rule(Role.admin, Scope.admin),
        Action.manage_owners: Rule(Role.owner, Scope.admin),
        Action.manage_workspace: Rule(Role.owner, Scope.admin),
        Action.delete_projects: Rule(Role.owner, Scope.admin),
    }
)


def role_allows(role: Role, action: Action) -> bool:
    """Does `role` meet the minimum role of `action` (scope aside)?"""
    needed = RULES[action].role
    return needed is None or role.rank >= needed.rank


def require_scope_of(principal: Principal, action: Action) -> None:
    """Check only the token scope `action` needs: for actions on no existing workspace
    (creating one) and for lists that are filtered to what the caller may see anyway."""
    require_scope(principal, RULES[action].scope)


@dataclass(frozen=True, slots=True)
class Access:
    """Proof that `principal` may see `workspace`, with the role it acts with there.

    Only `resolve()` builds one (and `authorize()` through it): a service holding one asks
    `require()` again for a second action without another query.
    """

    principal: Principal
    workspace: WorkspaceRow
    role: Role  # effective: owner for a site admin

    def allows(self, action: Action) -> bool:
        """Would `require(action)` pass?"""
        return role_allows(self.role, action) and self.principal.allows(RULES[action].scope)

    def require(self, action: Action) -> Access:
        """Raise FORBIDDEN unless the token's scope and the role allow `action`."""
        rule = RULES[action]
        require_scope(self.principal, rule.scope)
        if not role_allows(self.role, action):
            assert rule.role is not None  # role_allows passes when no role is needed
            raise Forbidden(
                f"This needs the {rule.role.value} role in workspace {self.workspace.slug!r};"
                f" you are {self.role.value}"
            )
        return self


WorkspaceRef = str | int
"""A workspace named by slug (REST paths) or by primary key (global IDs)."""


async def authorize(principal: Principal, workspace: WorkspaceRef, action: Action) -> Access:
    """The caller's access to `workspace` if it allows `action`.

    NOT_FOUND when the workspace does not exist or the caller has no role there; FORBIDDEN when
    the token's scope or the caller's role is too low.
    """
    access = await resolve(principal, workspace)
    return access.require(action)


async def resolve(principal: Principal, workspace: WorkspaceRef) -> Access:
    """The caller's access to `workspace`, whatever it allows; NOT_FOUND when invisible."""
    found = await workspace_repo.find_with_member_role(workspace, principal.user_id)
    if found is not None:
        row, stored = found
        role = Role.owner if principal.is_site_admin else stored
        return Access(principal=principal, workspace=row, role=role)
    if principal.is_site_admin:
        # Only a site admin reaches a workspace without a membership: one more query for them.
        row_only = await workspace_repo.find(workspace)
        if row_only is not None:
            return Access(principal=principal, workspace=row_only, role=Role.owner)
    raise not_found(workspace)


def not_found(ref: str | int) -> NotFound:
    """The one answer for a workspace that does not exist or that the caller may not see."""
    if isinstance(ref, str):
        return NotFound(f"No workspace {ref!r}")
    return NotFound("No such workspace")


@contextmanager
def unseen_as(noun: str) -> Iterator[None]:
    """Answer every NOT_FOUND raised inside as "No such <noun>".

    An object named by primary key (a GraphQL ID) is found first, then its project and
    workspace, and each step has a NOT_FOUND of its own. Outside, they must be one answer, or an
    outsider walking the sequential IDs would tell "not visible" from "does not exist" and
    count every tenant's objects.
    """
    try:
        yield
    except NotFound:
        raise NotFound(f"No such {noun}") from None
