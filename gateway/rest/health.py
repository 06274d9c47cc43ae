"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.core import db
from gateway.core.errors import ServiceUnavailable
from gateway.http import lifecycle

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
    responses={503: {"description": "Shutting down, database unreachable or migrations pending"}},
)
async def readyz() -> Readiness:
    """200 when the database answers and every migration has been applied; 503 otherwise, and
    503 from the moment the process is told to stop (before it stops accepting)."""
    if lifecycle.draining():
        raise ServiceUnavailable("The server is shutting down", headers={"Retry-After": "1"})
    try:
        await db.ping()
    except Exception as exc:
        raise ServiceUnavailable(
            "The database is unreachable", headers={"Retry-After": "5"}
        ) from exc
    pending = await db.pending_migrations()
    if pending:
        raise ServiceUnavailable(f"Migrations pending: {', '.join(pending)}")
    return Readiness(status="ok", database="ok", pending_migrations=[])
