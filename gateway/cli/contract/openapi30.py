"""An OpenAPI 3.1 document (what FastAPI writes) rendered as OpenAPI 3.0.3, only for the
contract guard's diff: openapi-diff (ADR 0018) reads 3.0 only.

3.1's JSON Schema spellings that 3.0 lacks are rewritten to their 3.0 equivalents, which
describe the same set of values: `anyOf [X, {type: null}]` → X with `nullable: true`,
`const` → a one-value `enum`, `examples` → `example`, numeric `exclusiveMinimum`/`Maximum` →
the bound with the 3.0 boolean. The published `openapi.json` stays 3.1.
"""

from __future__ import annotations

import copy
from typing import Any

_NULL = {"type": "null"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:  # 3.0 ignores siblings of $ref
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def _bounds(schema: dict[str, Any]) -> None:
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[bound] = value
            schema[exclusive] = True


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _schema(value) for key, value in node.items()}
    for union in ("anyOf", "oneOf"):
        options = node.get(union)
        if isinstance(options, list) and _NULL in options:
            rest = [option for option in options if option != _NULL]
            del node[union]
            inner = rest[0] if len(rest) == 1 else {union: rest}
            node = {**node, **_nullable(inner)}
    if node.get("type") == "null":
        node = {key: value for key, value in node.items() if key != "type"}
        node["nullable"] = True
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if "examples" in node and isinstance(node["examples"], list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    _bounds(node)
    return node


def _walk(node: Any) -> Any:
    """Rewrite every `schema` object (and component schema) found under `node`."""
    if isinstance(node, list):
        return [_walk(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: _schema(value) if key == "schema" else _walk(value) for key, value in node.items()}


def as_openapi30(document: dict[str, Any]) -> dict[str, Any]:
    """A 3.0.3 rendering of `document` (which is left as it is)."""
    converted: dict[str, Any] = _walk(copy.deepcopy(document))
    converted["openapi"] = "3.0.3"
    schemas = converted.get("components", {}).get("schemas", {})
    for name, schema in list(schemas.items()):
        schemas[name] = _schema(schema)
    return converted
