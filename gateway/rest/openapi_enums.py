"""One component per enum: request models spell their enums as `Literal`s (strict validation,
field-named errors), which OpenAPI would inline, so a generator makes `IssueCreatePriority`,
`IssuePatchPriority`… beside `IssuePriority`. An inline string enum with exactly the values of a
published enum component becomes a reference to that component."""

from __future__ import annotations

from typing import Any

_REF = "#/components/schemas/{}"
_DOCUMENTATION = ("title", "description", "default")


def _enum_components(components: dict[str, Any]) -> dict[tuple[str, ...], str]:
    return {
        tuple(schema["enum"]): name
        for name, schema in components.items()
        if schema.get("type") == "string" and isinstance(schema.get("enum"), list)
    }


def _shared(node: Any, enums: dict[tuple[str, ...], str]) -> Any:
    if isinstance(node, list):
        return [_shared(item, enums) for item in node]
    if not isinstance(node, dict):
        return node
    values = node.get("enum")
    if node.get("type") == "string" and isinstance(values, list):
        name = enums.get(tuple(values))
        if name is not None:
            kept = {key: node[key] for key in _DOCUMENTATION if key in node}
            return {"$ref": _REF.format(name), **kept}
    return {key: _shared(value, enums) for key, value in node.items()}


def share_enums(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with inline copies of enum components replaced by references."""
    components: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    enums = _enum_components(components)
    for name, component in list(components.items()):
        if tuple(component.get("enum", ())) in enums:
            continue  # the component itself
        components[name] = _shared(component, enums)
    schema["paths"] = _shared(schema.get("paths", {}), enums)
    return schema
