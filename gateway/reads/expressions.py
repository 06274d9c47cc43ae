"""The nouns' computed values, row rules and guards as SQL (`gateway.reads.nouns` uses them).

Each takes the parent's or the row's `Scope` (its table alias and placeholders for the caller
and the time) and writes SQL from constants only; every value is a parameter. They restate, in
SQL, rules the services own: `gateway.services.access` (who sees what), `…invitations` (expiry,
addressees), `…workspaces.list_user_workspaces` (whose memberships a caller may list).
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.reads.encoding import node_id_sql
from gateway.reads.model import Scope
from gateway.reads.sql import literal
from models import InvitationState, Role


def email(scope: Scope) -> str:
    # Only the user themselves and site admins see an address.
    me = f"{scope.alias}.id = {scope.viewer}"
    return f"CASE WHEN {me} OR {scope.admin} THEN {scope.alias}.email END"


def viewer_role(scope: Scope) -> str:
    # A site admin acts as an owner everywhere (gateway.services.access).
    mine = (
        f"(SELECT m.role FROM memberships m WHERE m.workspace_id = {scope.alias}.id"
        f" AND m.user_id = {scope.viewer})"
    )
    return f"CASE WHEN {scope.admin} THEN '{Role.owner.value}' ELSE {mine} END"


def global_id(type_name: str, column: str) -> Callable[[Scope], str]:
    """The global id of another noun's row named by `column` (null when it is)."""

    def compute(scope: Scope) -> str:
        return node_id_sql(scope.dialect, type_name, f"{scope.alias}.{column}")

    return compute


def shown_to_viewer(scope: Scope) -> str:
    # Whose memberships may be listed in full: one's own, and anyone's to a site admin.
    return f"({scope.admin} OR {scope.alias}.id = {scope.viewer})"


def shared_rows(scope: Scope, rows: str) -> str:
    """Another user's memberships: those of workspaces the caller belongs to as well
    (`gateway.services.workspaces.list_user_workspaces`)."""
    mine = f"SELECT sm.workspace_id FROM memberships sm WHERE sm.user_id = {scope.viewer}"
    return f"({shown_to_viewer(scope)} OR {rows}.workspace_id IN ({mine}))"


def shared_scope(scope: Scope) -> str:
    """`:None`, or `:<caller>` when the list is cut to shared workspaces (the repository's
    `workspaces-of:{user}:{shared_with}`)."""
    caller = f"CAST({scope.viewer} AS text)"
    return f"(CASE WHEN {shown_to_viewer(scope)} THEN ':None' ELSE ':' || {caller} END)"


def manages(scope: Scope) -> str:
    """The caller sees the workspace's invitations: an admin or owner there, or a site admin
    (`gateway.services.access`, `see_invitations`)."""
    roles = ", ".join(literal(r.value) for r in Role if r.rank >= Role.admin.rank)
    mine = (
        f"EXISTS (SELECT 1 FROM memberships im WHERE im.workspace_id = {scope.alias}.id"
        f" AND im.user_id = {scope.viewer} AND im.role IN ({roles}))"
    )
    return f"({scope.admin} OR {mine})"


def unanswered(scope: Scope, rows: str) -> str:
    return f"{rows}.state = '{InvitationState.pending.value}'"


def only_yourself(scope: Scope) -> str:
    return f"{scope.alias}.id = {scope.viewer}"


def addressed_to(scope: Scope, rows: str) -> str:
    """Invitations the user may still accept: naming their account or the address it has now
    (`gateway.repositories.invitations.page_addressed_to`)."""
    email = f"SELECT ie.email_key FROM users ie WHERE ie.id = {scope.alias}.id AND ie.is_active"
    return (
        f"({rows}.invitee_id = {scope.alias}.id OR {rows}.email_key IN ({email}))"
        f" AND {unanswered(scope, rows)} AND {rows}.expires_at > {scope.now}"
    )


def invitation_state(scope: Scope) -> str:
    # A pending invitation past `expires_at` reads as expired (`services.invitations._state`).
    pending, expired = InvitationState.pending.value, InvitationState.expired.value
    return (
        f"(CASE WHEN {scope.alias}.state = '{pending}' AND {scope.alias}.expires_at <= {scope.now}"
        f" THEN '{expired}' ELSE {scope.alias}.state END)"
    )


def project_key(scope: Scope) -> str:
    return f"(SELECT pk.key FROM projects pk WHERE pk.id = {scope.alias}.project_id)"


def issue_node_id(scope: Scope) -> str:
    return node_id_sql(scope.dialect, "Issue", f"{scope.alias}.issue_id")


def comment_count(scope: Scope) -> str:
    return f"(SELECT count(*) FROM comments c WHERE c.issue_id = {scope.alias}.id)"
