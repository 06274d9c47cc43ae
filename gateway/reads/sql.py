"""SQL text for compiled reads: placeholders named while a statement is built and numbered at
the end, and the only two ways a string enters the text beside the code's own SQL — a string
constant of the code (`literal`) and an output key (`json_key`), checked against GraphQL's
name grammar. Every value a request brings is a placeholder."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.reads.model import Dialect

_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
MAX_KEYS = 50  # PostgreSQL functions take at most 100 arguments


class CannotCompile(Exception):
    """The selection needs something the compiler does not express: use the resolvers."""


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    names: tuple[str, ...]


_MARK = re.compile("\x01([^\x02]+)\x02([a-z]+)\x03")


@dataclass(slots=True)
class Params:
    """Placeholders by name: the same name is the same parameter. Marked while the text is
    built and numbered at the end (`number`), so a parameter the text ended up not using is
    never sent (asyncpg insists on exactly the parameters a statement has)."""

    dialect: Dialect

    def __call__(self, name: str, sql_type: str) -> str:
        return f"\x01{name}\x02{sql_type}\x03"

    def number(self, text: str) -> Statement:
        names: list[str] = []

        def placeholder(match: re.Match[str]) -> str:
            name, sql_type = match.group(1), match.group(2)
            if name not in names:
                names.append(name)
            number = names.index(name) + 1
            return f"${number}::{sql_type}" if self.dialect == "postgres" else f"?{number}"

        return Statement(_MARK.sub(placeholder, text), tuple(names))


def literal(text: str) -> str:
    """A constant of the code (never a request's value) as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_key(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise CannotCompile(f"not a name: {name!r}")
    return f"'{name}'"
