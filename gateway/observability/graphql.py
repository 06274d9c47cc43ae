"""What a GraphQL-over-HTTP request asked for and how it went, seen from outside: its
operation's name and type from the request (body or query string), and its errors' codes from
the answer. Read at the edge, so the compiled path (which answers before Strawberry) and the
resolvers' path are described alike.

Names become metric labels, so they are bounded: a name longer than `MAX_NAME` or outside
`NAME` is "other", and past `MAX_NAMES` distinct names every new one is "other" too.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import parse_qsl

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse

MAX_NAME: Final = 64
MAX_NAMES: Final = 200
NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
OTHER: Final = "other"
ANONYMOUS: Final = "anonymous"
UNKNOWN: Final = "unknown"
MAX_CODES: Final = 32
CODE: Final = re.compile(r"[A-Z][A-Z_]{0,47}")
# Operation types of documents seen lately, by document text: parsed once each.
MAX_DOCUMENTS: Final = 512
MAX_DOCUMENT_CHARS: Final = 100_000


@dataclass(slots=True)
class Operation:
    """One GraphQL request: `name` is the label-safe name (`raw_name` what was sent, for the
    log), `type` query, mutation, subscription or unknown, `codes` its errors' codes."""

    name: str = ANONYMOUS
    raw_name: str | None = None
    type: str = UNKNOWN
    codes: list[str] = field(default_factory=list)


class _Names:
    """The operation names admitted as label values so far (at most `MAX_NAMES`)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS
        if name in self.seen:
            return name
        if len(name) > MAX_NAME or not NAME.fullmatch(name) or len(self.seen) >= MAX_NAMES:
            return OTHER
        self.seen.add(name)
        return name


NAMES: Final = _Names()
_TYPES: OrderedDict[str, dict[str | None, str]] = OrderedDict()


def _types(document: str) -> dict[str | None, str]:
    """Each operation's type by name (None: the document's only operation, if it has one)."""
    known = _TYPES.get(document)
    if known is not None:
        _TYPES.move_to_end(document)
        return known
    types: dict[str | None, str] = {}
    if len(document) <= MAX_DOCUMENT_CHARS:
        try:
            parsed = parse(document, no_location=True)
        except GraphQLError:
            parsed = None
        if parsed is not None:
            operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
            for operation in operations:
                name = operation.name.value if operation.name else None
                types[name] = operation.operation.value
            if len(operations) == 1:
                types[None] = operations[0].operation.value
    _TYPES[document] = types
    if len(_TYPES) > MAX_DOCUMENTS:
        _TYPES.popitem(last=False)
    return types


def describe(params: object) -> Operation:
    """The operation that GraphQL-over-HTTP parameters (a decoded JSON body, or a GET's
    query parameters) name."""
    operation = Operation()
    if not isinstance(params, dict):
        return operation
    name, document = params.get("operationName"), params.get("query")
    if isinstance(name, str) and name:
        operation.raw_name = name[:MAX_NAME]
        operation.name = NAMES.label(name)
    elif name is not None and name != "":
        operation.name = OTHER
    if isinstance(document, str):
        operation.type = _types(document).get(operation.raw_name, UNKNOWN)
    return operation


def from_body(body: bytes) -> Operation:
    """The operation a POSTed JSON body names (unknown when it is not JSON)."""
    try:
        return describe(orjson.loads(body))
    except orjson.JSONDecodeError:
        return Operation()


def from_query_string(query_string: bytes) -> Operation | None:
    """The operation a GET's query string names (None without a `query`: GraphiQL's page)."""
    params = dict(parse_qsl(query_string.decode("latin-1")))
    return describe(params) if "query" in params else None


def error_codes(body: bytes) -> list[str]:
    """The `extensions.code` of each error in a GraphQL answer (bounded, label-safe)."""
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return []
    codes: list[str] = []
    for error in errors[:MAX_CODES]:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) and CODE.fullmatch(code) else OTHER)
    return codes
