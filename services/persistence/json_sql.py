"""JSON the database builds, in either dialect: for a read that takes a few related rows along with its
own row in one statement, instead of a second query (PostgreSQL's `json_agg`, `json_build_array` and
`encode(…, 'hex')`; SQLite's `json_group_array`, `json_array` and `hex`)."""

from typing import Any

from sqlalchemy import Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class json_list(FunctionElement[str]):
    """Aggregate: the group's values as one JSON array (NULL on PostgreSQL for no rows, `[]` on SQLite)."""

    type = Text()
    inherit_cache = True


class json_row(FunctionElement[str]):
    """The arguments as one JSON array."""

    type = Text()
    inherit_cache = True


class hex_of(FunctionElement[str]):
    """Bytes as hexadecimal text (either case: `bytes.fromhex` reads both)."""

    type = Text()
    inherit_cache = True


@compiles(json_list, "postgresql")
def _json_agg(element: json_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg({compiler.process(element.clauses, **kw)})"


@compiles(json_list)
def _json_group_array(element: json_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


@compiles(json_row, "postgresql")
def _json_build_array(element: json_row, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_array({compiler.process(element.clauses, **kw)})"


@compiles(json_row)
def _json_array(element: json_row, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array({compiler.process(element.clauses, **kw)})"


@compiles(hex_of, "postgresql")
def _encode_hex(element: hex_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"encode({compiler.process(element.clauses, **kw)}, 'hex')"


@compiles(hex_of)
def _hex(element: hex_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"hex({compiler.process(element.clauses, **kw)})"
