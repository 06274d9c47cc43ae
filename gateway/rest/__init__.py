"""REST routers, mounted under `/api/v1` (health checks at the root)."""

from fastapi import APIRouter, Depends

from gateway.http.deps import bearer_scheme, oauth2_scheme
from gateway.rest import auth, invitations, members, meta, tokens, users, workspaces
from gateway.rest import comments as comments_rest
from gateway.rest import events as events_rest
from gateway.rest import issues as issues_rest
from gateway.rest import labels as labels_rest
from gateway.rest import projects as projects_rest
from gateway.rest import webhooks as webhooks_rest
from gateway.rest.params import text_parameters

api_router = APIRouter(
    prefix="/api/v1",
    dependencies=[Depends(oauth2_scheme), Depends(bearer_scheme), Depends(text_parameters)],
)
api_router.include_router(meta.router)
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(tokens.router)
api_router.include_router(events_rest.router)
api_router.include_router(workspaces.router)
api_router.include_router(members.router)
api_router.include_router(invitations.router)
api_router.include_router(invitations.me_router)
api_router.include_router(webhooks_rest.router)
api_router.include_router(projects_rest.router)
api_router.include_router(labels_rest.router)
api_router.include_router(issues_rest.router)
api_router.include_router(comments_rest.router)
