"""Short, stable OpenAPI operation ids: `<tag>-<verb>` (`issues-list`, `issues-create`,
`issues-get`, `issues-update`, `issues-delete`), so generated clients read naturally
(`issues_list.sync(...)`, not `list_issues_api_v1_workspaces_slug_projects_key_issues_get`).

The verb follows from the method and whether the path ends in an object (`…/{number}`); the few
operations that are not plain CRUD are named in `_ACTIONS`. Ids are part of the contract
(`openapi.json`): renaming one is a breaking change for generated clients.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi.routing import APIRoute

API_PREFIX: Final = "/api/v1"
_ON_COLLECTION: Final = {"GET": "list", "POST": "create", "PATCH": "update", "DELETE": "delete"}
_ON_OBJECT: Final = {"GET": "get", "PATCH": "update", "DELETE": "delete", "POST": "create"}
# (method, path without the API prefix) → verb, for what the rule above would misname.
_ACTIONS: Final = {
    ("POST", "/auth/token"): "token",
    ("POST", "/auth/refresh"): "refresh",
    ("POST", "/auth/logout"): "logout",
    ("GET", "/meta"): "get",
    ("GET", "/me"): "get-me",
    ("PATCH", "/me"): "update-me",
    ("GET", "/me/invitations"): "list-mine",
    ("POST", "/me/invitations/{invitation_id}/accept"): "accept",
    ("POST", "/me/invitations/{invitation_id}/decline"): "decline",
    ("GET", "/workspaces/{slug}/webhooks/{webhook_id}/deliveries"): "list-deliveries",
    (
        "POST",
        "/workspaces/{slug}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    ): "redeliver",
    ("GET", "/healthz"): "live",
    ("GET", "/readyz"): "ready",
}


def operation_id(route: APIRoute) -> str:
    """FastAPI's `generate_unique_id_function`: `<first tag>-<verb>`."""
    method = sorted(route.methods or {"GET"})[0]
    path = route.path.removeprefix(API_PREFIX)
    tag = route.tags[0] if route.tags else "default"
    verb = _ACTIONS.get((method, path))
    if verb is None:
        verbs = _ON_OBJECT if path.endswith("}") else _ON_COLLECTION
        verb = verbs.get(method, method.lower())
    return f"{tag}-{verb}"


# Operations that need no credentials: documented with `security: []`, so generated clients
# call them with a plain client (sign-up and sign-in come before any token exists).
PUBLIC: Final = frozenset(
    {"auth-token", "auth-refresh", "auth-logout", "users-create", "health-live", "health-ready"}
)


def mark_public(schema: dict[str, Any]) -> dict[str, Any]:
    """Give every operation in `PUBLIC` an empty security requirement."""
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if operation.get("operationId") in PUBLIC:
                operation["security"] = []
    return schema
