"""OpenAI vector-store search filters, compiled to a parameterised SQL condition over a jsonb attributes column.

A filter is a comparison ``{"type", "key", "value"}`` or a compound ``{"type": "and" | "or", "filters": [...]}``
(``ComparisonFilter`` and ``CompoundFilter`` in the OpenAI spec). Keys and values travel only as query parameters:
the SQL text depends on nothing but the filter's shape.

Semantics, for a row whose attributes object is ``a`` (``a[key]`` may be absent):

- ``eq``: ``a @> {key: value}``, which the GIN ``jsonb_path_ops`` index on the column can serve. JSON types must
  match: the string ``"1"`` never equals the number ``1``, nor ``true`` the number ``1``. Numbers are JSON decimals,
  so ``1`` equals ``1.0``. An array or object attribute never equals a scalar.
- ``ne``: ``NOT eq``, so a row without the key matches ``ne``.
- ``gt``, ``gte``, ``lt``, ``lte``: the value is a number or a string (not a boolean), and only an attribute of the
  same JSON type matches: a row without the key, or holding ``"10"`` when compared with ``10``, never does. Numbers
  compare as decimals (a float as its shortest JSON text), strings by Unicode code point (``COLLATE "C"``) whatever
  the database's locale.
- ``in``: ``eq`` for any item of a non-empty list of strings and numbers (mixed allowed), one containment test
  ``a @> ANY(...)`` that the index also serves; ``nin`` is ``NOT in``, so a row without the key matches ``nin``.
- ``and``, ``or``: a non-empty list of filters. Filters nest at most 10 levels deep (the top filter is level 1) and
  hold at most 100 comparisons in all.

Keys are non-empty strings of at most 64 characters. No string may contain NUL or a lone surrogate, which PostgreSQL
text cannot hold; such a filter, like any other malformed one, raises ``InvalidRequest`` with ``param="filters"``.
The column is assumed ``NOT NULL``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ragstore.errors import InvalidRequest

COLUMN = sql.SQL("c.attributes")
MAX_DEPTH = 10
MAX_COMPARISONS = 100
MAX_KEY_LENGTH = 64

COMPOUNDS = {"and": sql.SQL(" AND "), "or": sql.SQL(" OR ")}
ORDERINGS = {"gt": sql.SQL(">"), "gte": sql.SQL(">="), "lt": sql.SQL("<"), "lte": sql.SQL("<=")}
COMPARISONS = ("eq", "ne", *ORDERINGS, "in", "nin")

_NUMBER_ORDER = sql.SQL(
    "(jsonb_typeof({column} -> {key}::text) = 'number' AND ({column} -> {key2}::text) {op} {value})"
)
_STRING_ORDER = sql.SQL(
    "(jsonb_typeof({column} -> {key}::text) = 'string' AND ({column} ->> {key2}::text) COLLATE \"C\" {op} {value})"
)

Bind = Callable[[Any], sql.Composable]


def compile_filter_named(
    spec: Mapping[str, Any], prefix: str = "f", column: sql.Composable = COLUMN
) -> tuple[sql.Composed, dict[str, Any]]:
    """A condition with named placeholders (prefix0, prefix1, ...) equivalent to the filter, and its parameters."""
    params: dict[str, Any] = {}

    def bind(value: Any) -> sql.Composable:
        name = f"{prefix}{len(params)}"
        params[name] = value
        return sql.Placeholder(name)

    return _Compiler(column, bind).node(spec, "filters", 1), params


def compile_filter(spec: Mapping[str, Any], column: sql.Composable = COLUMN) -> tuple[sql.Composed, list[Any]]:
    """A condition with positional placeholders equivalent to the filter, and its parameters in order."""
    params: list[Any] = []

    def bind(value: Any) -> sql.Composable:
        params.append(value)
        return sql.Placeholder()

    return _Compiler(column, bind).node(spec, "filters", 1), params


class _Compiler:
    """One filter's compilation: the column, how values become placeholders, and the comparisons seen so far."""

    def __init__(self, column: sql.Composable, bind: Bind) -> None:
        self.column = column
        self.bind = bind  # called in the order the placeholders appear in the SQL text
        self.comparisons = 0

    def node(self, spec: Any, path: str, depth: int) -> sql.Composed:
        """Any filter: a comparison or a compound."""
        if not isinstance(spec, Mapping):
            raise _invalid(path, "expected an object")
        if depth > MAX_DEPTH:
            raise _invalid(path, f"filters may nest at most {MAX_DEPTH} levels deep")
        kind = spec.get("type")
        if kind in COMPOUNDS:
            return self.compound(spec, path, depth)
        if kind in COMPARISONS:
            return self.comparison(spec, path)
        raise _invalid(f"{path}.type", f"expected one of {', '.join([*COMPARISONS, *COMPOUNDS])}")

    def compound(self, spec: Mapping[str, Any], path: str, depth: int) -> sql.Composed:
        """An and/or of the nested filters, parenthesised."""
        _check_fields(spec, ("type", "filters"), path)
        filters = spec["filters"]
        if not isinstance(filters, list) or not filters:
            raise _invalid(f"{path}.filters", "expected a non-empty list of filters")
        parts = [self.node(item, f"{path}.filters[{i}]", depth + 1) for i, item in enumerate(filters)]
        return sql.SQL("({})").format(COMPOUNDS[spec["type"]].join(parts))

    def comparison(self, spec: Mapping[str, Any], path: str) -> sql.Composed:
        """One comparison of an attribute with a value."""
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise _invalid(path, f"a filter may hold at most {MAX_COMPARISONS} comparisons")
        _check_fields(spec, ("type", "key", "value"), path)
        kind, key, value = spec["type"], _key(spec["key"], f"{path}.key"), spec["value"]
        if kind in ORDERINGS:
            return self.ordering(ORDERINGS[kind], key, _orderable(value, f"{path}.value"))
        if kind in ("in", "nin"):
            pairs = [Jsonb({key: item}) for item in _items(value, f"{path}.value")]
            condition = sql.SQL("{} @> ANY({}::jsonb[])").format(self.column, self.bind(pairs))
        else:
            pair = Jsonb({key: _scalar(value, f"{path}.value")})
            condition = sql.SQL("{} @> {}::jsonb").format(self.column, self.bind(pair))
        return sql.SQL("NOT ({})").format(condition) if kind in ("ne", "nin") else condition

    def ordering(self, op: sql.SQL, key: str, value: str | int | float) -> sql.Composed:
        """An order comparison, true only for an attribute of the value's JSON type."""
        template, bound = (_STRING_ORDER, value) if isinstance(value, str) else (_NUMBER_ORDER, Jsonb(value))
        first, second = self.bind(key), self.bind(key)
        placeholder = self.bind(bound)
        cast = sql.SQL("{}::text" if isinstance(value, str) else "{}::jsonb").format(placeholder)
        return template.format(column=self.column, key=first, key2=second, op=op, value=cast)


def _check_fields(spec: Mapping[str, Any], fields: tuple[str, ...], path: str) -> None:
    """Refuse a filter with a missing or an unexpected field."""
    for field in fields:
        if field not in spec:
            raise _invalid(path, f"a '{spec['type']}' filter needs '{field}'")
    for field in spec:
        if field not in fields:
            raise _invalid(path, f"unexpected field {field!r} in a '{spec['type']}' filter")


def _key(key: Any, path: str) -> str:
    """An attribute key: a non-empty string of at most MAX_KEY_LENGTH characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise _invalid(path, f"expected a non-empty string of at most {MAX_KEY_LENGTH} characters")
    return _text(key, path)


def _scalar(value: Any, path: str) -> str | int | float | bool:
    """A value for eq/ne: a string, a finite number or a boolean."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list | tuple):
        raise _invalid(path, "a list is only allowed with 'in' and 'nin'")
    return _string_or_number(value, path, "expected a string, a number or a boolean")


def _orderable(value: Any, path: str) -> str | int | float:
    """A value for gt/gte/lt/lte: a string or a finite number."""
    if isinstance(value, bool):
        raise _invalid(path, "booleans cannot be ordered; use 'eq' or 'ne'")
    if isinstance(value, list | tuple):
        raise _invalid(path, "a list is only allowed with 'in' and 'nin'")
    return _string_or_number(value, path, "expected a string or a number")


def _items(value: Any, path: str) -> list[str | int | float]:
    """A value for in/nin: a non-empty list of strings and finite numbers."""
    if not isinstance(value, list | tuple) or not value:
        raise _invalid(path, "'in' and 'nin' need a non-empty list of strings and numbers")
    return [_string_or_number(item, f"{path}[{i}]", "expected a string or a number") for i, item in enumerate(value)]


def _string_or_number(value: Any, path: str, expected: str) -> str | int | float:
    """A string PostgreSQL can store, or a finite number (never a boolean)."""
    if isinstance(value, str):
        return _text(value, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(path, expected)
    if isinstance(value, float) and not math.isfinite(value):
        raise _invalid(path, "numbers must be finite")
    return value


def _text(value: str, path: str) -> str:
    """The string, if PostgreSQL text can hold it (no NUL, valid UTF-8)."""
    if "\x00" in value:
        raise _invalid(path, "strings may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(path, "strings must be valid Unicode (no lone surrogates)") from None
    return value


def _invalid(path: str, problem: str) -> InvalidRequest:
    """The error for a malformed filter at path."""
    return InvalidRequest(f"Invalid '{path}': {problem}.", param="filters")
