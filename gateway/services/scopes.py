"""Token scopes: the check every service makes before it reads or changes anything.

Scopes only narrow: a JWT session carries every scope, a personal access token only those it
was created with, and roles are checked separately, after this.
"""

from __future__ import annotations

from gateway.core.errors import Forbidden
from gateway.security.principal import Principal, Scope


def require_scope(principal: Principal, needed: Scope) -> None:
    """FORBIDDEN, naming the missing scope, unless the credential's scopes cover `needed`."""
    if not principal.allows(needed):
        raise Forbidden(f"This token lacks the '{needed.value}' scope, which this action needs")
