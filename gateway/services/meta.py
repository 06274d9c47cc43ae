"""Facts about the running server, for `GET /api/v1/meta` and `serverInfo`."""

from __future__ import annotations

from dataclasses import dataclass

from gateway import __version__
from gateway.core.settings import Settings


@dataclass(frozen=True, slots=True)
class ServerFacts:
    version: str
    environment: str


def server_facts(settings: Settings) -> ServerFacts:
    return ServerFacts(version=__version__, environment=settings.environment.value)
