"""Facts about the running server."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.services import meta
from schema.context import Context


@strawberry.type(description="The server answering this request.")
class ServerInfo:
    version: str = strawberry.field(description="Switchyard's version.")
    environment: str = strawberry.field(description="development, test or production.")


@strawberry.type
class MetaQuery:
    @strawberry.field(description="The version and environment of this server.")
    def server_info(self, info: Info[Context, None]) -> ServerInfo:
        facts = meta.server_facts(info.context.settings)
        return ServerInfo(version=facts.version, environment=facts.environment)
