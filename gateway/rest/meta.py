"""`GET /api/v1/meta`: facts about the running server."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.http.deps import SettingsDep
from gateway.services import meta

router = APIRouter(tags=["meta"])


class Meta(BaseModel):
    version: str
    environment: str


@router.get("/meta", summary="Server facts")
async def get_meta(settings: SettingsDep) -> Meta:
    """The version and environment of this server (the same facts as GraphQL `serverInfo`)."""
    facts = meta.server_facts(settings)
    return Meta(version=facts.version, environment=facts.environment)
