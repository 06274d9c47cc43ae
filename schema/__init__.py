"""The Strawberry GraphQL schema: one `Query` (and later `Mutation`) merged from noun modules."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from gateway.settings import Settings
from schema.errors import CatalogueErrors
from schema.meta import MetaQuery

Query = merge_types("Query", (MetaQuery,))


class SwitchyardSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Client errors are not server problems; unexpected ones are logged by
        `schema.errors.to_catalogue` with the request id."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with its protective extensions; `settings` switches introspection."""
    extensions: list[object] = [CatalogueErrors, ParserCache, ValidationCache]
    if settings is not None and not settings.introspection:
        extensions.append(DisableIntrospection)
    return SwitchyardSchema(
        query=Query,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(auto_camel_case=True),
    )
