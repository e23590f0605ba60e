"""OpenAI search filters compiled to SQL, run against the real PostgreSQL and checked against a Python reference."""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from ragstore.errors import InvalidRequest
from ragstore.store.filters import compile_filter, compile_filter_named

ROWS = {
    1: {"a": 10, "b": "x", "flag": True},
    2: {"a": 10.0, "b": "y", "flag": False},
    3: {"a": "10", "b": "X"},
    4: {"a": 2.5, "c": None},
    5: {"b": "xy", "flag": 1},
    6: {"a": [10, 11], "b": {"x": 1}},
    7: {},
}

HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CREATE TEMP TABLE c (id int PRIMARY KEY, attributes jsonb NOT NULL)")
        yield connection


def load(conn: psycopg.Connection, rows: dict[int, dict[str, Any]]) -> None:
    conn.execute("TRUNCATE c")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO c (id, attributes) VALUES (%s, %s)", [(i, Jsonb(a)) for i, a in rows.items()])


def select(conn: psycopg.Connection, spec: dict[str, Any]) -> list[int]:
    condition, params = compile_filter_named(spec)
    query = psycopg.sql.SQL("SELECT id FROM c WHERE {} ORDER BY id").format(condition)
    return [row[0] for row in conn.execute(query, params)]


def cmp(kind: str, key: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "key": key, "value": value}


@pytest.fixture
def rows(conn: psycopg.Connection) -> psycopg.Connection:
    load(conn, ROWS)
    return conn


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (cmp("eq", "a", 10), [1, 2]),  # 10 equals 10.0; "10" and [10, 11] do not
        (cmp("eq", "a", 10.0), [1, 2]),
        (cmp("eq", "a", "10"), [3]),
        (cmp("eq", "b", "x"), [1]),  # case-sensitive
        (cmp("eq", "flag", True), [1]),  # true is not the number 1
        (cmp("eq", "flag", 1), [5]),
        (cmp("eq", "flag", False), [2]),
        (cmp("eq", "missing", "x"), []),
        (cmp("ne", "a", 10), [3, 4, 5, 6, 7]),  # rows without the key match ne
        (cmp("ne", "flag", True), [2, 3, 4, 5, 6, 7]),
        (cmp("gt", "a", 5), [1, 2]),  # "10" is a string: no match against a number
        (cmp("gte", "a", 10), [1, 2]),
        (cmp("lt", "a", 10), [4]),
        (cmp("lte", "a", 10), [1, 2, 4]),
        (cmp("gt", "a", "1"), [3]),  # string against string only
        (cmp("lt", "a", "9"), [3]),  # code-point order: "10" < "9"
        (cmp("lt", "b", "a"), [3]),  # code-point order: "X" < "a"
        (cmp("gte", "b", "x"), [1, 2, 5]),
        (cmp("gt", "missing", 0), []),
        (cmp("in", "a", [2.5, "10"]), [3, 4]),
        (cmp("in", "a", [10, "x"]), [1, 2]),
        (cmp("in", "b", ["x", "xy", 1]), [1, 5]),
        (cmp("nin", "a", [10, "10"]), [4, 5, 6, 7]),  # rows without the key match nin
        (cmp("nin", "b", ["x", "y"]), [3, 4, 5, 6, 7]),
        ({"type": "and", "filters": [cmp("eq", "a", 10), cmp("eq", "b", "x")]}, [1]),
        ({"type": "or", "filters": [cmp("eq", "b", "X"), cmp("lt", "a", 3)]}, [3, 4]),
        ({"type": "or", "filters": [cmp("gt", "a", 100)]}, []),
    ],
)
def test_comparisons(rows: psycopg.Connection, spec: dict[str, Any], expected: list[int]) -> None:
    assert select(rows, spec) == expected


def test_nested_three_levels(rows: psycopg.Connection) -> None:
    spec = {
        "type": "or",
        "filters": [
            {
                "type": "and",
                "filters": [
                    cmp("gte", "a", 10),
                    {"type": "or", "filters": [cmp("eq", "flag", False), cmp("eq", "b", "x")]},
                ],
            },
            {"type": "and", "filters": [cmp("ne", "b", "x"), {"type": "or", "filters": [cmp("in", "b", ["xy", "X"])]}]},
        ],
    }
    assert select(rows, spec) == [1, 2, 3, 5]


def test_positional_placeholders_follow_the_text(rows: psycopg.Connection) -> None:
    spec = {"type": "and", "filters": [cmp("gt", "a", 1), cmp("in", "b", ["x", "y"]), cmp("ne", "flag", True)]}
    condition, params = compile_filter(spec)
    query = psycopg.sql.SQL("SELECT id FROM c WHERE {} ORDER BY id").format(condition)
    assert [row[0] for row in rows.execute(query, params)] == [2] == select(rows, spec)


def test_named_placeholders_use_the_prefix() -> None:
    condition, params = compile_filter_named(cmp("lt", "k", "v"), prefix="filter_")
    assert set(params) == {"filter_0", "filter_1", "filter_2"}
    assert "%(filter_0)s" in condition.as_string(None)


def test_custom_column(conn: psycopg.Connection) -> None:
    load(conn, {1: {"k": 1}, 2: {"k": 2}})
    condition, params = compile_filter_named(cmp("eq", "k", 2), column=psycopg.sql.Identifier("attributes"))
    query = psycopg.sql.SQL("SELECT id FROM c WHERE {}").format(condition)
    assert [row[0] for row in conn.execute(query, params)] == [2]


@pytest.mark.parametrize("spec", [cmp("eq", "k", 1), cmp("in", "k", [1, "x"])])
def test_containment_uses_the_gin_index(conn: psycopg.Connection, spec: dict[str, Any]) -> None:
    conn.execute("CREATE INDEX ON c USING gin (attributes jsonb_path_ops)")
    conn.execute("SET enable_seqscan = off")
    condition, params = compile_filter_named(spec)
    plan = conn.execute(psycopg.sql.SQL("EXPLAIN SELECT id FROM c WHERE {}").format(condition), params).fetchall()
    assert "Bitmap Index Scan" in "\n".join(line for (line,) in plan)


def nest(depth: int) -> dict[str, Any]:
    spec: dict[str, Any] = cmp("eq", "k", 1)
    for _ in range(depth - 1):
        spec = {"type": "and", "filters": [spec]}
    return spec


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("eq", "expected an object"),
        ({"type": "like", "key": "k", "value": "v"}, "expected one of"),
        ({"key": "k", "value": "v"}, "expected one of"),
        ({"type": "eq", "value": "v"}, "needs 'key'"),
        ({"type": "eq", "key": "k"}, "needs 'value'"),
        ({"type": "eq", "key": "k", "value": "v", "extra": 1}, "unexpected field"),
        ({"type": "and"}, "needs 'filters'"),
        ({"type": "and", "filters": []}, "non-empty list"),
        ({"type": "or", "filters": cmp("eq", "k", 1)}, "non-empty list"),
        ({"type": "and", "filters": [cmp("eq", "k", 1)], "key": "k"}, "unexpected field"),
        (cmp("eq", "", 1), "non-empty string"),
        (cmp("eq", 3, 1), "non-empty string"),
        (cmp("eq", "k" * 65, 1), "at most 64"),
        (cmp("eq", "k", [1]), "only allowed with 'in'"),
        (cmp("gt", "k", [1]), "only allowed with 'in'"),
        (cmp("eq", "k", None), "expected a string, a number or a boolean"),
        (cmp("eq", "k", {"x": 1}), "expected a string, a number or a boolean"),
        (cmp("gt", "k", True), "booleans cannot be ordered"),
        (cmp("lte", "k", None), "expected a string or a number"),
        (cmp("in", "k", "x"), "non-empty list"),
        (cmp("nin", "k", []), "non-empty list"),
        (cmp("in", "k", [1, True]), "expected a string or a number"),
        (cmp("in", "k", [[1]]), "expected a string or a number"),
        (cmp("eq", "k", float("nan")), "finite"),
        (cmp("gt", "k", float("inf")), "finite"),
        (cmp("in", "k", [1, float("-inf")]), "finite"),
        (cmp("eq", "k\x00", 1), "NUL"),
        (cmp("eq", "k", "v\x00"), "NUL"),
        (cmp("in", "k", ["\ud800"]), "lone surrogates"),
        (nest(11), "at most 10 levels"),
        ({"type": "or", "filters": [cmp("eq", "k", i) for i in range(101)]}, "at most 100 comparisons"),
    ],
)
def test_invalid_filters(spec: Any, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as caught:
        compile_filter_named(spec)
    assert caught.value.param == "filters"


def test_limits_are_inclusive() -> None:
    compile_filter_named(nest(10))
    compile_filter_named({"type": "or", "filters": [cmp("eq", "k", i) for i in range(100)]})
    compile_filter_named(cmp("eq", "k" * 64, 1))


def test_error_names_the_offending_filter() -> None:
    spec = {"type": "and", "filters": [cmp("eq", "k", 1), {"type": "or", "filters": [cmp("gt", "k", False)]}]}
    with pytest.raises(InvalidRequest, match=r"'filters\.filters\[1\]\.filters\[0\]\.value'"):
        compile_filter_named(spec)


# Injection safety: any key and string value compiles to the same SQL text as a harmless one, and runs.

NASTY = st.one_of(
    st.text(),
    st.sampled_from(["'; DROP TABLE c; --", "\\", "'", '"', "%s", "%(f0)s", "{}", "$1", "c.attributes", "\x00"]),
    st.text(alphabet="'\"\\;%(){}$-\x00 ", min_size=1),
)


@HYPOTHESIS
@given(key=NASTY, value=NASTY, kind=st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"]))
def test_no_spec_string_reaches_the_sql(conn: psycopg.Connection, key: str, value: str, kind: str) -> None:
    spec = cmp(kind, key, [value, "z"] if kind in ("in", "nin") else value)
    if not key or len(key) > 64 or "\x00" in key + value:
        with pytest.raises(InvalidRequest):
            compile_filter_named(spec)
        return
    condition, params = compile_filter_named(spec)
    text = condition.as_string(conn)
    reference = compile_filter_named(cmp(kind, "k", ["v", "z"] if kind in ("in", "nin") else "v"))[0]
    # The SQL text is the one a harmless key and value give: no spec string reaches it, so none can inject.
    assert text == reference.as_string(conn)
    rows = {1: {key: value}, 2: {key: value + "!"}, 3: {"other": 1}}
    load(conn, rows)
    query = psycopg.sql.SQL("SELECT id FROM c WHERE {} ORDER BY id").format(condition)
    assert [row[0] for row in conn.execute(query, params)] == [i for i, row in rows.items() if evaluate(spec, row)]
    assert conn.execute("SELECT count(*) FROM c").fetchone() == (3,)


# Equivalence: random filter trees over random rows agree with a Python reference evaluator.

KEYS = st.sampled_from(["a", "b", "c"])
# Mostly a few colliding values so that filters match some rows and not others; sometimes anything.
NARROW_NUMBERS = st.one_of(st.integers(-3, 3), st.sampled_from([-1.0, 0.0, -0.0, 1.0, 2.5, 3.0, 10**20, 1e20]))
WIDE_NUMBERS = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers())
NUMBERS = st.one_of(NARROW_NUMBERS, NARROW_NUMBERS, NARROW_NUMBERS, WIDE_NUMBERS)
STRINGS = st.one_of(st.sampled_from(["", "a", "b", "B", "ab"]), st.text(alphabet="abAB1é😀", max_size=3))
ORDERABLE = st.one_of(NUMBERS, STRINGS)
SCALARS = st.one_of(NUMBERS, STRINGS, st.booleans())

COMPARISON = st.one_of(
    st.builds(cmp, st.sampled_from(["eq", "ne"]), KEYS, SCALARS),
    st.builds(cmp, st.sampled_from(["gt", "gte", "lt", "lte"]), KEYS, ORDERABLE),
    st.builds(cmp, st.sampled_from(["in", "nin"]), KEYS, st.lists(ORDERABLE, min_size=1, max_size=4)),
)
FILTERS = st.recursive(
    COMPARISON,
    lambda children: st.builds(
        lambda kind, filters: {"type": kind, "filters": filters},
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=3),
    ),
    max_leaves=12,
)
ATTRIBUTES = st.dictionaries(KEYS, SCALARS, max_size=3)

ORDER = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "string"


def comparable(value: Any) -> Any:
    # JSON numbers are decimals: a float is its shortest text (what the database stores), not its binary value.
    return Decimal(json.dumps(value)) if json_type(value) == "number" else value


def same(left: Any, right: Any) -> bool:
    return json_type(left) == json_type(right) and comparable(left) == comparable(right)


def evaluate(spec: dict[str, Any], row: dict[str, Any]) -> bool:
    """The documented semantics, in Python."""
    kind = spec["type"]
    if kind in ("and", "or"):
        results = [evaluate(child, row) for child in spec["filters"]]
        return all(results) if kind == "and" else any(results)
    key, value = spec["key"], spec["value"]
    present = key in row
    if kind in ("eq", "ne"):
        return (present and same(row[key], value)) == (kind == "eq")
    if kind in ("in", "nin"):
        return (present and any(same(row[key], item) for item in value)) == (kind == "in")
    if not present or json_type(row[key]) != json_type(value):
        return False
    return ORDER[kind](comparable(row[key]), comparable(value))


def depth(spec: dict[str, Any]) -> int:
    return 1 + max(map(depth, spec["filters"])) if "filters" in spec else 1


@HYPOTHESIS
@given(spec=FILTERS, attributes=st.lists(ATTRIBUTES, min_size=4, max_size=10))
def test_sql_agrees_with_the_reference(conn: psycopg.Connection, spec: dict[str, Any], attributes: list) -> None:
    assume(depth(spec) <= 10)
    load(conn, dict(enumerate(attributes)))
    expected = [i for i, row in enumerate(attributes) if evaluate(spec, row)]
    assert select(conn, spec) == expected
