"""The Relay `Node` interface: every object has a global `id`, the REST `node_id`."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a global ID (the REST `node_id`).")
class Node:
    id: strawberry.ID = strawberry.field(description="The global ID of the object.")
