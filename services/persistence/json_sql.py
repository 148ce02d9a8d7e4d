"""JSON the database builds, in either dialect: for a read that takes a few related rows along with its
own row in one statement, instead of a second query (PostgreSQL's `json_agg`, `json_build_array` and
`encode(…, 'hex')`; SQLite's `json_group_array`, `json_array` and `hex`)."""

from typing import Any, ClassVar

from sqlalchemy import Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class _Portable(FunctionElement[str]):
    """A function spelled one way on PostgreSQL and another on SQLite: `{}` stands for the arguments."""

    type = Text()
    inherit_cache = True
    postgresql: ClassVar[str]
    sqlite: ClassVar[str]


class json_list(_Portable):
    """Aggregate: the group's values as one JSON array (NULL on PostgreSQL for no rows, `[]` on SQLite)."""

    postgresql, sqlite = "json_agg({})", "json_group_array({})"
    inherit_cache = True  # each class its own cache key


class json_row(_Portable):
    """The arguments as one JSON array."""

    postgresql, sqlite = "json_build_array({})", "json_array({})"
    inherit_cache = True  # each class its own cache key


class hex_of(_Portable):
    """Bytes as hexadecimal text (either case: `bytes.fromhex` reads both)."""

    postgresql, sqlite = "encode({}, 'hex')", "hex({})"
    inherit_cache = True  # each class its own cache key


@compiles(_Portable, "postgresql")
def _on_postgresql(element: _Portable, compiler: SQLCompiler, **kw: Any) -> str:
    return element.postgresql.format(compiler.process(element.clauses, **kw))


@compiles(_Portable)
def _on_sqlite(element: _Portable, compiler: SQLCompiler, **kw: Any) -> str:
    return element.sqlite.format(compiler.process(element.clauses, **kw))
