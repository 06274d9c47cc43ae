"""The Strawberry GraphQL schema, and `build_schema`, which adds its protective extensions.

`Query` merges the root fields of `schema.meta` (`serverInfo`), `schema.lookup` (`node`,
`nodes`) and the noun modules (`schema.users`, `.workspaces`, `.projects`, `.issues`);
`Mutation` merges the nouns' mutations, each field wrapped in `ClearLoaders`
(`schema.loaders`); `Subscription` is `schema.subscriptions`. A noun module holds its types,
their root fields and mutations; the relations between nouns are `schema.loaders`', the only
module that builds another module's objects, so the noun modules import each other only for
annotations (ADR 0021). GraphQL over HTTP and websockets is `schema.http`; the compiled reads
are `schema.compiled`, `schema.planner` and `schema.shape` (ADR 0015).
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from gateway.core.settings import Settings
from schema.comments import CommentMutation
from schema.http.errors import CatalogueErrors
from schema.http.limits import query_limit_extensions
from schema.http.rate_cost import RateCost
from schema.inputs import ArgumentGuard
from schema.invitations import InvitationMutation
from schema.issue_mutations import IssueMutation
from schema.issues import IssueQuery
from schema.labels import LabelMutation
from schema.loaders import clear_loaders_after_each
from schema.lookup import NodeQuery
from schema.meta import MetaQuery
from schema.projects import ProjectMutation, ProjectQuery
from schema.scalars import SCALAR_MAP
from schema.subscriptions import Subscription
from schema.users import UserMutation, UserQuery
from schema.webhooks import WebhookMutation
from schema.workspaces import WorkspaceMutation, WorkspaceQuery

Query = merge_types(
    "Query", (MetaQuery, NodeQuery, UserQuery, WorkspaceQuery, ProjectQuery, IssueQuery)
)
Mutation = clear_loaders_after_each(
    merge_types(
        "Mutation",
        (
            UserMutation,
            WorkspaceMutation,
            InvitationMutation,
            WebhookMutation,
            ProjectMutation,
            LabelMutation,
            IssueMutation,
            CommentMutation,
        ),
    )
)


class SwitchyardSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Client errors are not server problems; unexpected ones are logged by
        `schema.http.errors.to_catalogue` with the request id."""


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with its protective extensions; `settings` switches introspection."""
    extensions: list[object] = [CatalogueErrors, ParserCache, ValidationCache, ArgumentGuard]
    if settings is not None and not settings.introspection:
        extensions.append(DisableIntrospection)
    extensions.extend(query_limit_extensions(settings))  # depth, aliases, tokens, node cost
    extensions.append(RateCost)  # charges the node cost to the rate limit (ADR 0011)
    return SwitchyardSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,  # type: ignore[arg-type]
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    )
