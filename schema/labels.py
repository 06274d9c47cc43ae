"""GraphQL labels: the `Label` type, `node(id:)` for labels, and `createLabel`, `updateLabel`,
`deleteLabel`. `Project.labels` lives with `Project` (schema.projects).

Resolvers only translate: global IDs to keys, inputs to the service's Pydantic models, views to
types. Every rule lives in `gateway.services.labels`, shared with REST.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from gateway.core.ids import pk_of
from gateway.core.validation import validated
from gateway.reads import nouns
from gateway.services import labels
from gateway.services.labels import LabelCreate, LabelPatch
from schema.context import Context
from schema.declared import declared, values
from schema.inputs import expected_version_field, given
from schema.lookup import register_node
from schema.node import Node


@declared(nouns.LABEL, "A coloured tag for a project's issues.")
class Label(Node):
    pk: strawberry.Private[int]

    @classmethod
    def of(cls, view: labels.LabelView) -> Label:
        return cls(**values(cls, view), pk=view.pk)


async def labels_by_pk(info: Info[Context, None], pks: list[int]) -> list[Node | None]:
    """`node(id:)` for labels: null unless the caller may read the label's workspace (the
    service decides)."""
    views = await labels.visible_by_pk(info.context.viewer, pks)
    return [None if view is None else Label.of(view) for view in views]


register_node("Label", labels_by_pk)


@strawberry.input(description="A new label in a project.")
class CreateLabelInput:
    project_id: strawberry.ID = strawberry.field(description="The project's global ID.")
    name: str = strawberry.field(description="1 to 50 characters, unique ignoring case.")
    color: str = strawberry.field(description="`#rrggbb`.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 200 characters."
    )


@strawberry.input(description="Changes to a label; omitted fields stay as they are.")
class UpdateLabelInput:
    id: strawberry.ID = strawberry.field(description="The label's global ID.")
    expected_version: int | None = expected_version_field("label")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="1 to 50.")
    color: str | None = strawberry.field(default=strawberry.UNSET, description="`#rrggbb`.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Up to 200 characters."
    )


@strawberry.input(description="The label to delete.")
class DeleteLabelInput:
    id: strawberry.ID = strawberry.field(description="The label's global ID.")


def _fields(input: CreateLabelInput | UpdateLabelInput) -> dict[str, object]:
    return given(name=input.name, color=input.color, description=input.description)


@strawberry.type(description="The result of `createLabel`.")
class CreateLabelPayload:
    label: Label = strawberry.field(description="The new label.")


@strawberry.type(description="The result of `updateLabel`.")
class UpdateLabelPayload:
    label: Label = strawberry.field(description="The label, changed.")


@strawberry.type(description="The result of `deleteLabel`.")
class DeleteLabelPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The global ID of the label.")


@strawberry.type
class LabelMutation:
    @strawberry.mutation(
        description="Create a label (workspace admins). CONFLICT when the name is taken"
        " (ignoring case) or the project is archived."
    )
    async def create_label(
        self, info: Info[Context, None], input: CreateLabelInput
    ) -> CreateLabelPayload | None:
        data = validated(LabelCreate, _fields(input))
        project = pk_of(input.project_id, "Project")
        view = await labels.create_label(info.context.viewer, project, data)
        return CreateLabelPayload(label=Label.of(view))

    @strawberry.mutation(
        description="Rename, recolour or describe a label (workspace admins)."
        " PRECONDITION_FAILED when `expectedVersion` is stale."
    )
    async def update_label(
        self, info: Info[Context, None], input: UpdateLabelInput
    ) -> UpdateLabelPayload | None:
        patch = validated(LabelPatch, _fields(input))
        label = pk_of(input.id, "Label")
        view = await labels.update_label(info.context.viewer, label, patch, input.expected_version)
        return UpdateLabelPayload(label=Label.of(view))

    @strawberry.mutation(description="Delete a label, removing it from every issue (admins).")
    async def delete_label(
        self, info: Info[Context, None], input: DeleteLabelInput
    ) -> DeleteLabelPayload | None:
        deleted = await labels.delete_label(info.context.viewer, pk_of(input.id, "Label"))
        return DeleteLabelPayload(deleted_id=strawberry.ID(labels.node_id(deleted)))
