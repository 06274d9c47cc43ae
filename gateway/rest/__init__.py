"""REST routers, mounted under `/api/v1` (health checks at the root)."""

from fastapi import APIRouter, Depends

from gateway.deps import oauth2_scheme
from gateway.rest import meta

api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(oauth2_scheme)])
api_router.include_router(meta.router)
