"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from gateway import db
from gateway.errors import ServiceUnavailable

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    database: str
    pending_migrations: list[str]


@router.get("/healthz", summary="Liveness")
async def healthz() -> Health:
    """200 while the process can answer at all; touches nothing else."""
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness",
    responses={503: {"description": "Database unreachable or migrations pending"}},
)
async def readyz() -> Readiness:
    """200 when the database answers and every migration has been applied; 503 otherwise."""
    try:
        await db.ping()
    except Exception as exc:
        raise ServiceUnavailable("The database is unreachable") from exc
    pending = await db.pending_migrations()
    if pending:
        raise ServiceUnavailable(f"Migrations pending: {', '.join(pending)}")
    return Readiness(status="ok", database="ok", pending_migrations=[])
